/**
 * undici, the remote backend's HTTP client, loaded on first use: it is about a third of the
 * modules the server would load at start (110 of 360) and 150-350 ms of it on these machines,
 * which a server on the local engine never needs. Every use in remote/ goes through here; the
 * type-only imports cost nothing at run time.
 */
type Undici = typeof import('undici');

let loading: Promise<Undici> | undefined;

export function loadUndici(): Promise<Undici> {
  loading ??= import('undici');
  return loading;
}
