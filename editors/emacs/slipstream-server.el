;;; slipstream-server.el --- Slipstream server and document sync -*- lexical-binding: t; -*-

;; This file is part of Slipstream's Emacs client (editors/emacs/README.md).

;;; Commentary:

;; The half of the client that talks to the server and knows nothing about
;; suggestions on screen (that is slipstream.el):
;;
;; - starts one `slipstream serve --stdio' per Emacs with jsonrpc.el, sends
;;   `initialize' (the user's settings as initializationOptions) and
;;   `initialized', answers `workspace/configuration' with the same settings,
;;   logs `window/logMessage' in *slipstream log* and shows
;;   `window/showMessage' in the echo area, and passes
;;   `slipstream/suggestionFinished' on to slipstream.el with the buffer it is
;;   about (`slipstream-suggestion-finished-functions');
;; - keeps the server's copy of each buffer it was asked to open:
;;   `textDocument/didOpen', incremental `didChange' (ranges recorded before
;;   each change, sent in one notification per batch of changes), `didClose';
;; - converts buffer positions to LSP positions and back in the negotiated
;;   position encoding (utf-32 is asked for first: Emacs columns count
;;   characters, which are its code units, so the conversion is the identity);
;; - sends requests with their ids, so they can be cancelled.
;;
;; Buffers keep "\n" as their line ending whatever their file's coding system
;; says, and the server is sent the buffer's text as it is.  A buffer holding
;; a carriage return (a file read without end-of-line conversion) has line
;; breaks Emacs does not count as such; it is then synced as a whole text per
;; batch of changes, and positions are found by scanning for line breaks.

;;; Code:

(require 'cl-lib)
(require 'jsonrpc)
(require 'url-util)

(defgroup slipstream nil
  "Ghost-text code completions from the Slipstream language server."
  :group 'tools
  :prefix "slipstream-"
  :link '(url-link :tag "README" "editors/emacs/README.md"))

(defcustom slipstream-command '("slipstream" "serve" "--stdio")
  "The server command: a program and its arguments, speaking LSP on stdio.
In a clone of the repository without `npm link', for example
\\='(\"node\" \"/path/to/clone/bin/slipstream.js\" \"serve\" \"--stdio\")."
  :type '(repeat string))

(defcustom slipstream-server-environment nil
  "Variables added to the server's environment, as \"NAME=VALUE\" strings."
  :type '(repeat string))

(defcustom slipstream-settings nil
  "The server's `slipstream.*' settings (docs/configuration.md).
A plist or an alist, nested like the settings, for example
\\='(:completion (:maxTokens 32 :debounceMs 50)); nil or :json-false
is false, t is true, a vector is an array.  Sent as
initializationOptions and as the answer to `workspace/configuration'.
After changing it, \\[slipstream-send-settings] sends it to a running server."
  :type 'sexp)

(defcustom slipstream-root-directory nil
  "Workspace root sent to the server; nil: the project of the first buffer.
The project is what `project-current' finds, else that buffer's
`default-directory'."
  :type '(choice (const :tag "The first buffer's project" nil) directory))

(defcustom slipstream-position-encodings '("utf-32" "utf-16")
  "Position encodings offered to the server, preferred first.
The server takes the first it supports.  utf-32 counts characters,
as Emacs columns do; utf-16 and utf-8 are converted per line."
  :type '(repeat (choice (const "utf-32") (const "utf-16") (const "utf-8"))))

(defcustom slipstream-events-buffer-size 0
  "Characters of JSON-RPC traffic kept in *slipstream events*; 0: none.
Each message is pretty-printed there, whole documents included, so
keep this 0 unless debugging; nil keeps everything."
  :type '(choice (const :tag "Unlimited" nil) integer))

(defcustom slipstream-language-ids
  '((typescript-mode . "typescript") (typescript-ts-mode . "typescript")
    (tsx-ts-mode . "typescriptreact") (js-mode . "javascript")
    (js2-mode . "javascript") (js-ts-mode . "javascript")
    (rjsx-mode . "javascriptreact") (js-jsx-mode . "javascriptreact")
    (c++-mode . "cpp") (c++-ts-mode . "cpp") (c-mode . "c") (c-ts-mode . "c")
    (sh-mode . "shellscript") (bash-ts-mode . "shellscript")
    (emacs-lisp-mode . "emacs-lisp") (lisp-interaction-mode . "emacs-lisp")
    (python-mode . "python") (python-ts-mode . "python")
    (csharp-mode . "csharp") (fundamental-mode . "plaintext")
    (text-mode . "plaintext"))
  "LSP languageId of major modes; others drop \"-ts-mode\" or \"-mode\"."
  :type '(alist :key-type symbol :value-type string))

;;; State

(defvar slipstream--connection nil "The server's `jsonrpc-process-connection'.")

(defvar slipstream--server-state nil
  "nil (not started), `starting', `ready', `failed' or `exited'.")

(defvar slipstream--server-problem nil
  "Why the server is `failed' or `exited', a sentence.")

(defvar slipstream--stopping nil "Non-nil while the client shuts the server down.")

(defvar slipstream--encoding "utf-16" "The negotiated position encoding.")

(defvar slipstream--server-info nil "The `initialize' result.")

(defvar slipstream--documents nil "Buffers open on the server.")

(defvar slipstream--flush-timer nil "Timer that sends the changes made since the last.")

(defvar slipstream--whole-text-syncs 0
  "How many `didChange' sent a whole text rather than ranges (for tests).")

(defvar slipstream-server-ready-hook nil
  "Run once the server answered `initialize' and the buffers are open.")

(defvar slipstream-server-exit-hook nil
  "Run when the server exits or fails to start.")

(defvar slipstream-document-opened-functions nil
  "Run with a buffer once it is open on the server.")

(defvar slipstream-suggestion-finished-functions nil
  "Run with a buffer, a document version and an LSP position (a plist).
The server says that the whole suggestion behind its early answer to the
automatic request at that position of that version is ready
\(`slipstream/suggestionFinished', asked for at `initialize').")

(defvar-local slipstream--wanted nil
  "Non-nil when this buffer is to be open on the server.")

(defvar-local slipstream--uri nil "URI of this buffer on the server; nil: not open.")

(defvar-local slipstream--version 0 "Version of this buffer on the server.")

(defvar-local slipstream--changes nil
  "Changes not sent yet, newest first, or :full for the whole text.")

(defvar-local slipstream--before nil
  "The region about to change: (BEG END LSP-BEG LSP-END).")

(defvar-local slipstream--has-cr nil
  "Non-nil when the buffer holds a carriage return (see the Commentary).")

;;; Log

(defun slipstream--log (format-string &rest args)
  "Append FORMAT-STRING formatted with ARGS to *slipstream log*."
  (with-current-buffer (get-buffer-create "*slipstream log*")
    (let ((inhibit-read-only t))
      (goto-char (point-max))
      (insert (format-time-string "%H:%M:%S ") (apply #'format format-string args) "\n")
      ;; keep the last 256 KB or so
      (when (> (buffer-size) 300000)
        (goto-char (- (point-max) 250000))
        (forward-line 1)
        (delete-region (point-min) (point)))
      (setq buffer-read-only t))))

;;; JSON

(defun slipstream--json-key (key)
  "KEY of a plist or alist as a JSON object key."
  (cond ((keywordp key) (substring (symbol-name key) 1))
        ((symbolp key) (symbol-name key))
        (t key)))

(defun slipstream--json (value)
  "VALUE, a settings value written in Lisp, as jsonrpc.el serializes it.
Plists and alists become hash tables, other lists vectors, nil false."
  (cond
   ((hash-table-p value) value)
   ((memq value '(nil :json-false :false)) :json-false)
   ((vectorp value) (vconcat (mapcar #'slipstream--json value)))
   ((and (consp value) (keywordp (car value)))
    (let ((table (make-hash-table :test #'equal)))
      (while value
        (puthash (slipstream--json-key (car value)) (slipstream--json (cadr value)) table)
        (setq value (cddr value)))
      table))
   ((and (consp value) (consp (car value)))
    (let ((table (make-hash-table :test #'equal)))
      (dolist (pair value table)
        (puthash (slipstream--json-key (car pair)) (slipstream--json (cdr pair)) table))))
   ((consp value) (vconcat (mapcar #'slipstream--json value)))
   (t value)))

(defun slipstream--settings-object ()
  "`slipstream-settings' as a JSON object ({} when nil)."
  (if slipstream-settings
      (slipstream--json slipstream-settings)
    (make-hash-table :test #'equal)))

(defun slipstream--text (beg end)
  "The text between BEG and END as sent: characters JSON cannot carry replaced.
Raw bytes and lone surrogates become U+FFFD, one character for one."
  (let ((s (buffer-substring-no-properties beg end)))
    (if (string-match-p "[^\0-\uD7FF\uE000-\U0010FFFF]" s)
        (replace-regexp-in-string "[^\0-\uD7FF\uE000-\U0010FFFF]" "\uFFFD" s t t)
      s)))

;;; Positions

(defun slipstream--char-units (c)
  "Code units of character C in the negotiated encoding."
  (pcase slipstream--encoding
    ("utf-32" 1)
    ("utf-16" (if (and (> c #xFFFF) (<= c #x10FFFF)) 2 1))
    (_ (cond ((< c #x80) 1) ((< c #x800) 2)
             ((and (< c #x10000) (not (<= #xD800 c #xDFFF))) 3)
             ((<= #x10000 c #x10FFFF) 4)
             (t 3)))))                  ; sent as U+FFFD

(defun slipstream--units (beg end)
  "Code units of the text between BEG and END (on one line)."
  (if (equal slipstream--encoding "utf-32")
      (- end beg)
    (let ((n 0))
      (save-excursion
        (goto-char beg)
        (while (< (point) end)
          (setq n (+ n (slipstream--char-units (char-after))))
          (forward-char 1)))
      n)))

(defun slipstream--line-start (pos)
  "Start of the LSP line holding POS."
  (save-excursion
    (goto-char pos)
    (if (not slipstream--has-cr)
        (progn (forward-line 0) (point))
      (when (and (eq (char-after) ?\n) (eq (char-before) ?\r))
        (backward-char 1))              ; inside a CRLF: the end of its line
      (if (re-search-backward "[\r\n]" nil t) (1+ (point)) (point-min)))))

(defun slipstream--line-end (bol)
  "End of the LSP line that starts at BOL."
  (save-excursion
    (goto-char bol)
    (skip-chars-forward (if slipstream--has-cr "^\r\n" "^\n"))
    (point)))

(defun slipstream--lsp-position (pos)
  "POS as an LSP position plist (:line :character), the whole buffer counted."
  (save-restriction
    (widen)
    (let* ((bol (slipstream--line-start pos))
           (line (if (not slipstream--has-cr)
                     (1- (line-number-at-pos bol t))
                   (save-excursion
                     (goto-char (point-min))
                     (let ((n 0))
                       (while (re-search-forward "\r\n\\|[\r\n]" bol t) (setq n (1+ n)))
                       n)))))
      (list :line line :character (slipstream--units bol (min pos (slipstream--line-end bol)))))))

(defun slipstream--position-at (bol character)
  "Position of LSP column CHARACTER on the line starting at BOL.
Clamped to the line's end; a column inside a character is before it."
  (let ((eol (slipstream--line-end bol)))
    (if (equal slipstream--encoding "utf-32")
        (min (+ bol character) eol)
      (save-excursion
        (goto-char bol)
        (let ((n 0))
          (while (and (< (point) eol)
                      (<= (+ n (slipstream--char-units (char-after))) character))
            (setq n (+ n (slipstream--char-units (char-after))))
            (forward-char 1)))
        (point)))))

;;; The server

(defun slipstream--ready-p ()
  "Non-nil when the server is initialized and running."
  (and (eq slipstream--server-state 'ready) slipstream--connection
       (jsonrpc-running-p slipstream--connection)))

(defun slipstream--root ()
  "The workspace root directory."
  (expand-file-name
   (or slipstream-root-directory
       (and (fboundp 'project-current) (fboundp 'project-root)
            (let ((project (ignore-errors (project-current))))
              (and project (project-root project))))
       default-directory)))

(defun slipstream--path-uri (path)
  "The file URI of PATH."
  (let ((path (expand-file-name path)))
    (concat "file://" (if (string-prefix-p "/" path) "" "/")
            (url-hexify-string path url-path-allowed-chars))))

(defun slipstream--buffer-uri ()
  "The URI the current buffer has on the server."
  (if buffer-file-name
      (slipstream--path-uri buffer-file-name)
    (concat "untitled:" (url-hexify-string (buffer-name)))))

(defun slipstream--language-id ()
  "The LSP languageId of the current buffer."
  (let ((mode major-mode) id)
    (while (and mode (not id))
      (setq id (cdr (assq mode slipstream-language-ids))
            mode (get mode 'derived-mode-parent)))
    (or id (replace-regexp-in-string "\\(-ts\\)?-mode\\'" "" (symbol-name major-mode)))))

(defun slipstream--capabilities ()
  "What the client tells the server it can do."
  (list :general (list :positionEncodings (vconcat slipstream-position-encodings))
        :textDocument (list :synchronization (list :dynamicRegistration :json-false
                                                   :didSave :json-false)
                            :inlineCompletion (list :dynamicRegistration :json-false))
        :workspace (list :configuration t
                         :didChangeConfiguration (list :dynamicRegistration :json-false)
                         :executeCommand (list :dynamicRegistration :json-false))
        :experimental (list :slipstream (list :suggestionFinished t))
        :window (list :showMessage (list :messageActionItem
                                         (list :additionalPropertiesSupport :json-false)))))

(defun slipstream--stderr-tail ()
  "The last line the server wrote to stderr, or nil."
  (let ((buffer (and slipstream--connection
                     (ignore-errors (jsonrpc-stderr-buffer slipstream--connection)))))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (let ((text (string-trim (buffer-string))))
          (unless (string-empty-p text)
            (car (last (split-string text "\n")))))))))

(defun slipstream--fail (state problem)
  "The server is in STATE (`failed' or `exited') because of PROBLEM; say so once."
  (setq slipstream--server-state state
        slipstream--server-problem problem)
  (slipstream--log "%s" problem)
  (dolist (buffer slipstream--documents)
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (setq slipstream--uri nil slipstream--changes nil))))
  (setq slipstream--documents nil)
  (run-hooks 'slipstream-server-exit-hook)
  ;; after jsonrpc's own (hidden) message, from outside its sentinel
  (run-at-time 0 nil #'message "slipstream: %s (M-x slipstream-restart starts it again)" problem))

(defun slipstream--on-shutdown (connection)
  "The server process of CONNECTION ended."
  (when (and (eq connection slipstream--connection)
             (not (eq slipstream--server-state 'failed)))
    (if slipstream--stopping
        (setq slipstream--server-state nil slipstream--stopping nil)
      (let* ((process (jsonrpc--process connection))
             (tail (slipstream--stderr-tail)))
        (slipstream--fail 'exited
                          (format "the server exited (%s %s)%s"
                                  (process-status process) (process-exit-status process)
                                  (if tail (format ": %s" tail) "")))))))

(defun slipstream--quiet-sentinel (sentinel process change)
  "Run jsonrpc's SENTINEL for PROCESS and CHANGE without its echo-area message."
  (let ((inhibit-message t))
    (funcall sentinel process change)))

(defun slipstream--make-process ()
  "Start the server process (for jsonrpc.el, which names its stderr buffer)."
  (let ((process-environment (append slipstream-server-environment process-environment)))
    (make-process :name "slipstream"
                  :command slipstream-command
                  :connection-type 'pipe
                  :coding 'utf-8-emacs-unix
                  :noquery t
                  :stderr (get-buffer-create "*slipstream stderr*")
                  :file-handler nil)))

(defun slipstream--start ()
  "Start the server and initialize it; buffers wanting it are opened when ready."
  (setq slipstream--server-state 'starting
        slipstream--server-problem nil
        slipstream--stopping nil)
  ;; what a server that died mid-message left in jsonrpc's input buffer
  (let ((output (get-buffer " *slipstream output*")))
    (when (and output (not (process-live-p (get-buffer-process output))))
      (kill-buffer output)))
  (let* ((root (slipstream--root))
         (default-directory (if (or (file-remote-p root) (not (file-directory-p root)))
                                (expand-file-name "~/")
                              root))
         (connection
          (condition-case err
              (make-instance 'jsonrpc-process-connection
                             :name "slipstream"
                             :events-buffer-scrollback-size slipstream-events-buffer-size
                             :process #'slipstream--make-process
                             :request-dispatcher #'slipstream--handle-request
                             :notification-dispatcher #'slipstream--handle-notification
                             :on-shutdown #'slipstream--on-shutdown)
            (error
             (let ((stderr (get-buffer "*slipstream stderr*")))
               (when stderr (kill-buffer stderr)))
             (slipstream--fail 'failed (format "could not start %s: %s"
                                               (mapconcat #'identity slipstream-command " ")
                                               (error-message-string err)))
             nil))))
    (when connection
      (setq slipstream--connection connection)
      (add-function :around (process-sentinel (jsonrpc--process connection))
                    #'slipstream--quiet-sentinel)
      (slipstream--send-request
       'initialize
       (list :processId (emacs-pid)
             :clientInfo (list :name "slipstream.el" :version "0.1.0")
             :rootUri (slipstream--path-uri root)
             :rootPath root
             :workspaceFolders (vector (list :uri (slipstream--path-uri root)
                                             :name (file-name-nondirectory
                                                    (directory-file-name root))))
             :capabilities (slipstream--capabilities)
             :initializationOptions (slipstream--settings-object))
       (lambda (result) (slipstream--initialized connection result))
       (lambda (err)
         ;; a server that died is reported by `slipstream--on-shutdown'
         (when (and (eq connection slipstream--connection) (jsonrpc-running-p connection))
           (slipstream--fail 'failed (format "initialize failed: %s"
                                             (plist-get err :message)))
           (slipstream--stop-process)))
       30))))

(defun slipstream--initialized (connection result)
  "CONNECTION answered `initialize' with RESULT: open the buffers."
  (when (eq connection slipstream--connection)
    (setq slipstream--server-info result
          slipstream--encoding (or (plist-get (plist-get result :capabilities) :positionEncoding)
                                   "utf-16")
          slipstream--server-state 'ready)
    (slipstream--log "initialized: %s, position encoding %s"
                     (plist-get (plist-get result :serverInfo) :version) slipstream--encoding)
    (slipstream--notify 'initialized (make-hash-table))
    (dolist (buffer (buffer-list))
      (when (buffer-local-value 'slipstream--wanted buffer)
        (slipstream--open buffer)))
    (run-hooks 'slipstream-server-ready-hook)))

(defun slipstream--stop-process ()
  "End the server process, quietly."
  (let ((connection slipstream--connection))
    (when (and connection (jsonrpc-running-p connection))
      (setq slipstream--stopping t)
      (delete-process (jsonrpc--process connection)))))

(defun slipstream--ensure-server ()
  "Start the server unless it runs, is starting, or failed (that was said once)."
  (unless slipstream--server-state
    (slipstream--start)))

(defun slipstream--handle-request (_connection method params)
  "Answer the server's request METHOD with PARAMS."
  (pcase method
    ('workspace/configuration
     (vconcat (mapcar (lambda (item)
                        (if (member (plist-get item :section) '(nil "slipstream"))
                            (slipstream--settings-object)
                          nil))
                      (plist-get params :items))))
    ('window/showMessageRequest
     (message "slipstream: %s" (plist-get params :message))
     nil)
    ((or 'window/workDoneProgress/create 'client/registerCapability
         'client/unregisterCapability)
     nil)
    (_ (jsonrpc-error :code -32601 :message (format "%s is not supported" method)))))

(defun slipstream--handle-notification (_connection method params)
  "Handle the server's notification METHOD with PARAMS."
  (pcase method
    ('window/logMessage
     (slipstream--log "%s: %s"
                      (pcase (plist-get params :type) (1 "error") (2 "warning") (3 "info") (_ "log"))
                      (plist-get params :message)))
    ('window/showMessage
     (slipstream--log "shown: %s" (plist-get params :message))
     (message "slipstream: %s" (plist-get params :message)))
    ('slipstream/suggestionFinished
     (let* ((document (plist-get params :textDocument))
            (uri (plist-get document :uri))
            (buffer (and (stringp uri)
                         (cl-find-if (lambda (b) (and (buffer-live-p b)
                                                      (equal (buffer-local-value 'slipstream--uri b) uri)))
                                     slipstream--documents))))
       (when buffer
         (run-hook-with-args 'slipstream-suggestion-finished-functions buffer
                             (plist-get document :version) (plist-get params :position)))))))

(defun slipstream--send-request (method params success error &optional timeout)
  "Send request METHOD with PARAMS; return its id, or nil when not sent.
SUCCESS is called with the result, ERROR with the error object (a plist
with :code and :message), also when not answered within TIMEOUT seconds
\(nil: no limit)."
  (if (not (and slipstream--connection (jsonrpc-running-p slipstream--connection)))
      (progn (funcall error (list :code -1 :message "the server is not running")) nil)
    (condition-case err
        (car (jsonrpc--async-request-1
              slipstream--connection method params
              :success-fn success
              :error-fn error
              :timeout-fn (lambda () (funcall error (list :code -1 :message "timed out")))
              :timeout timeout))
      (error (funcall error (list :code -1 :message (error-message-string err)))
             nil))))

(defun slipstream--notify (method params)
  "Send notification METHOD with PARAMS, if the server runs."
  (when (and slipstream--connection (jsonrpc-running-p slipstream--connection))
    (condition-case err
        (jsonrpc-notify slipstream--connection method params)
      (error (slipstream--log "could not send %s: %s" method (error-message-string err))))))

(defun slipstream--cancel (id)
  "Send `$/cancelRequest' for request ID."
  (when id
    (slipstream--notify '$/cancelRequest (list :id id))))

(defun slipstream-send-settings ()
  "Send `slipstream-settings' to the running server."
  (interactive)
  (slipstream--notify 'workspace/didChangeConfiguration
                      (list :settings (list :slipstream (slipstream--settings-object)))))

;;; Documents

(defun slipstream--want (buffer)
  "Open BUFFER on the server now or once it is ready; start the server if needed."
  (with-current-buffer buffer
    (setq slipstream--wanted t)
    (add-hook 'before-change-functions #'slipstream--before-change nil t)
    (add-hook 'after-change-functions #'slipstream--after-change nil t)
    (add-hook 'kill-buffer-hook #'slipstream--unwant nil t))
  (slipstream--ensure-server)
  (when (slipstream--ready-p)
    (slipstream--open buffer)))

(defun slipstream--unwant (&optional buffer)
  "Close BUFFER (default: the current one) on the server; stop following it."
  (with-current-buffer (or buffer (current-buffer))
    (setq slipstream--wanted nil)
    (slipstream--close (current-buffer))
    (remove-hook 'before-change-functions #'slipstream--before-change t)
    (remove-hook 'after-change-functions #'slipstream--after-change t)
    (remove-hook 'kill-buffer-hook #'slipstream--unwant t)))

(defun slipstream--whole-text ()
  "The whole buffer's text as sent."
  (save-restriction
    (widen)
    (slipstream--text (point-min) (point-max))))

(defun slipstream--scan-cr ()
  "Note whether the buffer holds a carriage return."
  (save-restriction
    (widen)
    (save-excursion
      (goto-char (point-min))
      (setq slipstream--has-cr (and (search-forward "\r" nil t) t)))))

(defun slipstream--open (buffer)
  "Send `textDocument/didOpen' for BUFFER."
  (with-current-buffer buffer
    (unless slipstream--uri
      (setq slipstream--uri (slipstream--buffer-uri)
            slipstream--version 0
            slipstream--changes nil
            slipstream--before nil)
      (slipstream--scan-cr)
      (push buffer slipstream--documents)
      (slipstream--notify 'textDocument/didOpen
                          (list :textDocument (list :uri slipstream--uri
                                                    :languageId (slipstream--language-id)
                                                    :version slipstream--version
                                                    :text (slipstream--whole-text))))
      (run-hook-with-args 'slipstream-document-opened-functions buffer))))

(defun slipstream--close (buffer)
  "Send `textDocument/didClose' for BUFFER if it is open."
  (with-current-buffer buffer
    (when slipstream--uri
      (slipstream--notify 'textDocument/didClose
                          (list :textDocument (list :uri slipstream--uri)))
      (setq slipstream--uri nil slipstream--changes nil)
      (setq slipstream--documents (delq buffer slipstream--documents)))))

(defun slipstream--before-change (beg end)
  "Record the region BEG..END about to change, in LSP positions too."
  (when (and slipstream--uri (listp slipstream--changes) (not slipstream--has-cr))
    (setq slipstream--before (list beg end (slipstream--lsp-position beg)
                                   (slipstream--lsp-position end)))))

(defun slipstream--after-change (beg end old-length)
  "Queue the change of BEG..END (OLD-LENGTH characters before) for the server."
  (when slipstream--uri
    (let ((before slipstream--before))
      (setq slipstream--before nil)
      (cond
       ((or (eq slipstream--changes :full) slipstream--has-cr)
        (setq slipstream--changes :full))
       ((and before (<= (nth 0 before) beg) (<= (+ beg old-length) (nth 1 before)))
        ;; The recorded region holds the change (it may be larger: some commands
        ;; announce more than they change), so its new text is known exactly.
        (let ((new-end (+ (nth 1 before) (- end beg old-length))))
          (push (list :range (list :start (nth 2 before) :end (nth 3 before))
                      :text (slipstream--text (nth 0 before) new-end))
                slipstream--changes)
          (when (> (length slipstream--changes) 100)
            (setq slipstream--changes :full))))
       (t (setq slipstream--changes :full)))
      (when (and (not slipstream--has-cr)
                 (save-excursion (goto-char beg) (search-forward "\r" end t)))
        (setq slipstream--has-cr t))
      (unless slipstream--flush-timer
        (setq slipstream--flush-timer (run-with-timer 0 nil #'slipstream--flush-all))))))

(defun slipstream--flush (&optional buffer)
  "Send the changes of BUFFER (default: the current one) not sent yet."
  (with-current-buffer (or buffer (current-buffer))
    (when (and slipstream--uri slipstream--changes)
      (let ((changes (if (eq slipstream--changes :full)
                         (progn (slipstream--scan-cr)
                                (setq slipstream--whole-text-syncs (1+ slipstream--whole-text-syncs))
                                (vector (list :text (slipstream--whole-text))))
                       (vconcat (reverse slipstream--changes)))))
        (setq slipstream--changes nil
              slipstream--version (1+ slipstream--version))
        (slipstream--notify 'textDocument/didChange
                            (list :textDocument (list :uri slipstream--uri
                                                      :version slipstream--version)
                                  :contentChanges changes))))))

(defun slipstream--flush-all ()
  "Send every open buffer's changes not sent yet."
  (setq slipstream--flush-timer nil)
  (dolist (buffer slipstream--documents)
    (when (buffer-live-p buffer)
      (slipstream--flush buffer))))

(defun slipstream--sync ()
  "Bring the server's copy of the current buffer up to date.
Reopens it when its URI changed (the buffer visits another file)."
  (when slipstream--wanted
    (when (and slipstream--uri (not (equal slipstream--uri (slipstream--buffer-uri))))
      (slipstream--close (current-buffer)))
    (when (slipstream--ready-p)
      (slipstream--open (current-buffer))
      (slipstream--flush))))

(defun slipstream-shutdown ()
  "Stop the server; turning `slipstream-mode' on in a buffer starts it again."
  (interactive)
  (let ((connection slipstream--connection))
    (when (and connection (jsonrpc-running-p connection))
      (setq slipstream--stopping t)
      (dolist (buffer slipstream--documents)
        (when (buffer-live-p buffer)
          (with-current-buffer buffer (setq slipstream--uri nil slipstream--changes nil))))
      (setq slipstream--documents nil)
      (run-hooks 'slipstream-server-exit-hook)
      (slipstream--send-request
       'shutdown nil
       (lambda (_) (slipstream--notify 'exit nil))
       (lambda (_) (delete-process (jsonrpc--process connection)))
       2)))
  (setq slipstream--server-state nil))

(defun slipstream-restart ()
  "Start the server again (after a failure, or with new settings)."
  (interactive)
  (slipstream--stop-process)
  (setq slipstream--server-state nil
        slipstream--documents nil)
  (dolist (buffer (buffer-list))
    (with-current-buffer buffer
      (setq slipstream--uri nil slipstream--changes nil)))
  (when (cl-some (lambda (b) (buffer-local-value 'slipstream--wanted b)) (buffer-list))
    (slipstream--start)))

(defun slipstream-show-log ()
  "Show the server's log messages (and the client's notes)."
  (interactive)
  (display-buffer (get-buffer-create "*slipstream log*")))

(provide 'slipstream-server)
;;; slipstream-server.el ends here
