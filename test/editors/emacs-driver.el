;;; emacs-driver.el --- The test's hands in an Emacs under test -*- lexical-binding: t; -*-

;;; Commentary:

;; Loaded by `emacs -Q --batch' in test/editors/emacs-session.ts: loads
;; editors/emacs with the settings in $SLIPSTREAM_TEST_CONFIG, turns on
;; `global-slipstream-mode', connects back to the test over TCP on
;; $SLIPSTREAM_TEST_PORT and serves its calls, one JSON object per line:
;; {"id": N, "fn": NAME, "args": [...]}, answered [N, VALUE] or
;; [N, null, ERROR].  The client's events go to the test as ["event", NAME].
;; The test can also hand the client a notification as if from its server,
;; and record the requests the client sends, the texts it shows and the
;; `slipstream/suggestionFinished' notifications it gets, in order.
;;
;; In batch mode calls run at top level between waits for input, in the
;; buffer of the selected window, as commands would: keys are typed with
;; `execute-kbd-macro', so the command loop's hooks run for each key, and
;; timers and process output are handled while the driver waits, as in an
;; idle interactive Emacs.  In a terminal (`emacs -nw' under tmux) the test
;; types real keys into the terminal and reads its screen; calls run from a
;; timer, after a redisplay.

;;; Code:

(require 'cl-lib)

(defvar slipstream-test--config
  (json-parse-string (with-temp-buffer
                       (insert-file-contents (getenv "SLIPSTREAM_TEST_CONFIG"))
                       (buffer-string))
                     :object-type 'plist :array-type 'list :null-object nil :false-object nil))

(push (plist-get slipstream-test--config :lisp) load-path)
(require 'slipstream)

;; A major mode for the fixture's .ts files (Emacs 28 has none): languageId
;; "typescript", as the reference server is told.  No electric indentation:
;; the tests type their own.
(define-derived-mode typescript-mode prog-mode "TS")
(add-to-list 'auto-mode-alist '("\\.ts\\'" . typescript-mode))
(electric-indent-mode -1)
;; as editors/emacs/README.md suggests
(define-key slipstream-completion-map (kbd "M-f") #'slipstream-accept-word)
(unless noninteractive
  (menu-bar-mode -1)
  (setq inhibit-startup-screen t))
(setq make-backup-files nil auto-save-default nil create-lockfiles nil)

(setq slipstream-command (plist-get slipstream-test--config :command)
      slipstream-settings (plist-get slipstream-test--config :settings)
      slipstream-idle-delay (plist-get slipstream-test--config :idleDelay)
      slipstream-position-encodings (plist-get slipstream-test--config :encodings)
      slipstream-root-directory (plist-get slipstream-test--config :root))

(defvar slipstream-test--process nil "The connection to the test.")
(defvar slipstream-test--input "" "Received text not yet a whole line.")
(defvar slipstream-test--queue nil "Calls received, oldest first.")
(defvar slipstream-test--current-id nil "Id of the call being handled.")

(defun slipstream-test--json (value)
  "VALUE as `json-serialize' takes it: plists objects, lists arrays, symbols strings."
  (cond
   ((null value) :null)
   ((eq value t) t)
   ((and (consp value) (keywordp (car value)))
    (let ((table (make-hash-table :test #'equal)))
      (while value
        (puthash (substring (symbol-name (car value)) 1) (slipstream-test--json (cadr value)) table)
        (setq value (cddr value)))
      table))
   ((consp value) (vconcat (mapcar #'slipstream-test--json value)))
   ((vectorp value) (vconcat (mapcar #'slipstream-test--json value)))
   ((symbolp value) (symbol-name value))
   ((or (stringp value) (numberp value)) value)
   (t (format "%S" value))))

(defun slipstream-test--send (message)
  "Send MESSAGE (a Lisp value) to the test as one line of JSON."
  (process-send-string slipstream-test--process
                       (concat (json-serialize (slipstream-test--json message)
                                               :null-object :null :false-object :false)
                               "\n")))

(defun slipstream-test--filter (_process text)
  "Queue the calls in TEXT."
  (setq slipstream-test--input (concat slipstream-test--input text))
  (let (nl)
    (while (setq nl (string-search "\n" slipstream-test--input))
      (let ((line (substring slipstream-test--input 0 nl)))
        (setq slipstream-test--input (substring slipstream-test--input (1+ nl)))
        (unless (string-empty-p (string-trim line))
          (setq slipstream-test--queue
                (append slipstream-test--queue
                        (list (json-parse-string line :object-type 'plist :array-type 'list
                                                 :null-object nil :false-object nil))))
          (unless noninteractive
            (run-at-time 0 nil #'slipstream-test--drain)))))))

(defun slipstream-test--drain ()
  "Handle the calls received, in the buffer of the selected window."
  (while slipstream-test--queue
    (unless noninteractive (redisplay t))
    (with-current-buffer (window-buffer (selected-window))
      (slipstream-test--handle (pop slipstream-test--queue)))))

;;; What the test calls

(defun slipstream-test-eval (form)
  "Evaluate FORM, a string."
  (eval (car (read-from-string form)) t))

(defun slipstream-test-keys (keys)
  "Type KEYS, in `kbd' notation."
  (execute-kbd-macro (kbd keys))
  t)

(defun slipstream-test-text (text)
  "Type TEXT, one key per character (a line break is RET)."
  (execute-kbd-macro (vconcat (mapcar (lambda (c) (if (eq c ?\n) ?\r c)) text)))
  t)

(defun slipstream-test-snapshot ()
  "The buffer, point and the client's overlays and state."
  (save-restriction
    (widen)
    (list :text (buffer-substring-no-properties (point-min) (point-max))
          :point (1- (point))
          :mode (and slipstream-mode t)
          :active (and slipstream--completion-active t)
          :uri slipstream--uri
          :version slipstream--version
          :overlays
          (cl-loop for ov in (overlays-in (point-min) (point-max))
                   when (overlay-get ov 'slipstream)
                   collect (list :start (1- (overlay-start ov)) :end (1- (overlay-end ov))
                                 :display (overlay-get ov 'display)
                                 :after (overlay-get ov 'after-string)
                                 :window (eq (overlay-get ov 'window) (selected-window))
                                 :faces (let ((s (concat (overlay-get ov 'display)
                                                         (overlay-get ov 'after-string))))
                                          (cl-loop for i below (length s)
                                                   collect (if (eq (get-text-property i 'face s)
                                                                   'slipstream-suggestion-face)
                                                               1 0)))))
          :state (slipstream-state))))

(defun slipstream-test-request (method params)
  "Send the server METHOD with PARAMS through the client; answered later.
The buffers' changes are sent first, as before the client's own requests."
  (slipstream--flush-all)
  (let ((id slipstream-test--current-id))
    (slipstream--send-request (intern method) (or params (make-hash-table))
                              (lambda (result) (slipstream-test--send (list id result)))
                              (lambda (err) (slipstream-test--send (list id nil (plist-get err :message))))
                              10)
    'deferred))

(defun slipstream-test-server-notification (method params)
  "Hand the client METHOD with PARAMS as if the server had sent it.
Through the connection's notification dispatcher, as jsonrpc.el does."
  (funcall (jsonrpc--notification-dispatcher slipstream--connection)
           slipstream--connection (intern method) params)
  t)

;;; A record of what the client did, for tests that look at more than its end state

(defvar slipstream-test--record nil "What the client did since `slipstream-test-record', newest first.")

(defun slipstream-test--note-request (method params &rest _)
  "Note an inline completion request with METHOD and PARAMS as the client sends it."
  (when (eq method 'textDocument/inlineCompletion)
    (push (list :kind "request"
                :trigger (plist-get (plist-get params :context) :triggerKind)
                :version (plist-get (plist-get params :textDocument) :version)
                :position (plist-get params :position))
          slipstream-test--record)))

(defun slipstream-test--note-event (event)
  "Note the text of a suggestion shown (EVENT `shown')."
  (when (eq event 'shown)
    (push (list :kind "shown" :text (plist-get (plist-get (slipstream-state) :suggestion) :text))
          slipstream-test--record)))

(defun slipstream-test--note-finished (_buffer version position)
  "Note a `slipstream/suggestionFinished' for VERSION and POSITION."
  (push (list :kind "finished" :version version :position position) slipstream-test--record))

(defun slipstream-test-record ()
  "Start a new record of the client's inline completion requests (trigger
kind, version, position), the texts it shows and the suggestionFinished
notifications it is handed, in the order they happen."
  (setq slipstream-test--record nil)
  (advice-add 'slipstream--send-request :before #'slipstream-test--note-request)
  (add-hook 'slipstream-event-functions #'slipstream-test--note-event)
  ;; before the client's own function: noted before the request it may send
  (add-hook 'slipstream-suggestion-finished-functions #'slipstream-test--note-finished)
  t)

(defun slipstream-test-recorded ()
  "The record since `slipstream-test-record', oldest first."
  (reverse slipstream-test--record))

(defun slipstream-test--handle (call)
  "Handle CALL from the test and answer it."
  (let* ((slipstream-test--current-id (plist-get call :id))
         (result (condition-case err
                     (list :ok (apply (intern (plist-get call :fn)) (plist-get call :args)))
                   (error (list :error (error-message-string err))))))
    (cond
     ((plist-member result :error)
      (slipstream-test--send (list slipstream-test--current-id nil (plist-get result :error))))
     ((eq (plist-get result :ok) 'deferred))
     (t (slipstream-test--send (list slipstream-test--current-id (plist-get result :ok)))))))

(add-hook 'slipstream-event-functions
          (lambda (event) (slipstream-test--send (list "event" (symbol-name event)))))

(global-slipstream-mode 1)

(setq slipstream-test--process
      (make-network-process :name "slipstream-test" :host "127.0.0.1"
                            :service (string-to-number (getenv "SLIPSTREAM_TEST_PORT"))
                            :coding 'utf-8-unix :noquery t
                            :filter #'slipstream-test--filter
                            :sentinel (lambda (_p _c) (kill-emacs 0))))
(slipstream-test--send (list "ready" emacs-version))

(when noninteractive
  (while t
    (accept-process-output nil 0.02)
    (set-buffer (window-buffer (selected-window)))
    (slipstream-test--drain)))

;;; emacs-driver.el ends here
