;;; eglot-menu-driver.el --- Eglot's completion at point against the server -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by test/editors/completion-menu.test.ts as `emacs -Q --batch -l
;; eglot-menu-driver.el': a user's eglot (Debian's elpa-eglot, no Slipstream
;; client) starts the server ($SLIPSTREAM_MENU_CMD, a JSON array; settings
;; $SLIPSTREAM_MENU_SETTINGS as initializationOptions) for the file
;; $SLIPSTREAM_MENU_FILE in js-mode, adds the line $SLIPSTREAM_MENU_TYPED at
;; its end with the cursor after it, asks the server's suggestion there with
;; `slipstream/complete' (the reference), then completes at point as company
;; and corfu do: `eglot-completion-at-point' for the region and table, the
;; candidates in the table's display order, the first (or with
;; $SLIPSTREAM_MENU_CHOOSE "last", the last) put in the region and the exit
;; function called with `finished'.  Prints one JSON object: the
;; reference item, the completion's prefix, the candidates (label, the
;; edit's text, detail) in order, and the buffer's text and cursor offset
;; before and its text after.  Errors go to stderr and exit non-zero.

;;; Code:

(require 'cl-lib)
(require 'json)
;; Debian's elpa-* packages, which `emacs -Q' does not activate
(setq package-directory-list (list "/usr/share/emacs/site-lisp/elpa"))
(package-initialize)
(require 'eglot)

(defun slipstream-menu--env-json (name)
  "The value of environment variable NAME, parsed as JSON (lists and plists)."
  (json-parse-string (getenv name) :object-type 'plist :array-type 'list))

(defun slipstream-menu--wait (what predicate seconds)
  "Handle process output until PREDICATE is non-nil; signal WHAT after SECONDS."
  (let ((end (+ (float-time) seconds)))
    (while (not (funcall predicate))
      (when (> (float-time) end) (error "Timed out after %ss waiting for %s" seconds what))
      (accept-process-output nil 0.05))))

(let* ((cmd (slipstream-menu--env-json "SLIPSTREAM_MENU_CMD"))
       (settings (slipstream-menu--env-json "SLIPSTREAM_MENU_SETTINGS"))
       (typed (getenv "SLIPSTREAM_MENU_TYPED"))
       ;; no prompts, nothing sent late: didChange goes out before each request anyway
       (eglot-sync-connect 20)
       ;; as docs/editors.md's setup: the command, then its initializationOptions
       (eglot-server-programs (list (cons 'js-mode (append cmd (list :initializationOptions settings))))))
  (find-file (getenv "SLIPSTREAM_MENU_FILE"))
  (js-mode)
  (apply #'eglot (eglot--guess-contact))
  (slipstream-menu--wait "eglot to connect" #'eglot-current-server 20)
  (goto-char (point-max))
  (insert typed)
  (eglot--signal-textDocument/didChange)
  (let* ((server (eglot-current-server))
         (text (buffer-substring-no-properties (point-min) (point-max)))
         (offset (1- (point)))  ; the fixture is ASCII: characters are UTF-16 code units
         (reference (jsonrpc-request server :slipstream/complete
                                     (list :text text :offset offset :languageId "typescript" :uri "eglot-menu:reference")))
         (capf (eglot-completion-at-point))
         (start (nth 0 capf))
         (end (nth 1 capf))
         (table (nth 2 capf))
         (exit (plist-get (nthcdr 3 capf) :exit-function))
         (prefix (buffer-substring-no-properties start end))
         (sort (completion-metadata-get (completion-metadata prefix table nil) 'display-sort-function))
         (candidates (funcall (or sort #'identity) (all-completions prefix table)))
         (listed (mapcar (lambda (proxy)
                           (let ((item (get-text-property 0 'eglot--lsp-item proxy)))
                             (list :label proxy
                                   :newText (plist-get (plist-get item :textEdit) :newText)
                                   :detail (plist-get item :detail))))
                         candidates)))
    (when candidates
      ;; what completion-in-region does with a chosen candidate, then the exit function
      (let ((chosen (if (equal (getenv "SLIPSTREAM_MENU_CHOOSE") "last") (car (last candidates)) (car candidates))))
        (delete-region start end)
        (goto-char start)
        (insert chosen)
        (funcall exit chosen 'finished)))
    (princ (json-serialize
            (list :reference (aref (plist-get reference :items) 0)
                  :prefix prefix
                  :candidates (vconcat listed)
                  :before text
                  :offset offset
                  :after (buffer-substring-no-properties (point-min) (point-max)))))
    (terpri)
    (eglot-shutdown server)))

;;; eglot-menu-driver.el ends here
