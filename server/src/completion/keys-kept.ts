/**
 * How many documents' per-document state one connection's completion pipeline keeps at most (the
 * prompt caches, the debouncer's last request times): twice the open documents a connection may
 * hold (document-limits.ts), so an editor's documents always fit, while a client that names a new
 * document in every slipstream/complete request cannot grow it without end. What is forgotten is
 * a cache, rebuilt on the document's next request.
 */
import { DEFAULT_DOCUMENT_LIMITS } from '../document-limits.js';

export const KEYS_KEPT = 2 * DEFAULT_DOCUMENT_LIMITS.maxDocuments;
