;;; slipstream.el --- Ghost-text completions from Slipstream -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (jsonrpc "1.0.14"))
;; Keywords: tools, convenience
;; URL: editors/emacs/README.md in the Slipstream repository

;; This file is part of Slipstream's Emacs client (editors/emacs/README.md).

;;; Commentary:

;; `slipstream-mode' shows Slipstream's completions as ghost text while you
;; type, as Copilot.el does: after `slipstream-idle-delay' seconds without
;; typing it asks the server for `textDocument/inlineCompletion' (LSP 3.18) at
;; point, draws the answer with an overlay in `slipstream-suggestion-face',
;; and TAB writes it into the buffer.  Any other edit or move of point removes
;; it (and cancels the request in flight).  `global-slipstream-mode' turns it
;; on in every buffer that visits a file.
;;
;; A slow model's suggestion may be answered early, with its start (the
;; server's `completion.timeBudgetMs'); when the server then says the whole
;; one is ready (`slipstream/suggestionFinished') and nothing changed, the
;; client asks again there and the ghost text grows to the whole suggestion.
;;
;; While a suggestion is shown, `slipstream-completion-map' is active:
;;   TAB    `slipstream-accept'      write it into the buffer
;;   M-n    `slipstream-next'        the next alternative
;;   M-p    `slipstream-previous'    the previous alternative
;; and in `slipstream-mode':
;;   C-c \  `slipstream-complete'    ask now (with alternatives to cycle through)
;;
;; The server and the server's copy of each buffer: slipstream-server.el.

;;; Code:

(require 'cl-lib)
(require 'slipstream-server)

(defvar slipstream-mode)                ; defined below, used before

(defcustom slipstream-idle-delay 0.05
  "Seconds without typing before a suggestion is asked for.
The server adds its own adaptive debounce (`completion.debounceMs')."
  :type 'number
  :group 'slipstream)

(defcustom slipstream-global-disabled-modes '(special-mode)
  "Major modes (and modes derived from them) `global-slipstream-mode' skips."
  :type '(repeat symbol)
  :group 'slipstream)

(defface slipstream-suggestion-face '((t :inherit shadow))
  "Face of the suggested text."
  :group 'slipstream)

(defvar slipstream-event-functions nil
  "Functions called with one symbol at each step of the client.
`attached' (a buffer is open on the server), `request', `response'
\(see `slipstream-state' for its outcome), `shown', `cleared' and
`accepted'.  For mode lines and tests.")

(defvar slipstream-completion-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'slipstream-accept)
    (define-key map (kbd "<tab>") #'slipstream-accept)
    (define-key map (kbd "M-n") #'slipstream-next)
    (define-key map (kbd "M-p") #'slipstream-previous)
    map)
  "Keys active while a suggestion is shown (and only then).")

(defvar slipstream-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-c \\") #'slipstream-complete)
    map)
  "Keys of `slipstream-mode'.")

;;; State

(cl-defstruct (slipstream--pending (:constructor slipstream--make-pending))
  "A request in flight."
  id buffer tick point trigger then)

(cl-defstruct (slipstream--shown (:constructor slipstream--make-shown))
  "The suggestion shown: ITEMS of one answer, the one at INDEX drawn.
It replaces START..END of BUFFER with TEXT.  COMPLETE: ITEMS came from
an invoked request (all the alternatives the server offers)."
  buffer window tick point items index start end text item overlay complete)

(defvar slipstream--timer nil "The timer of the next automatic request.")
(defvar slipstream--pending nil "The `slipstream--pending' request in flight.")
(defvar slipstream--shown nil "The `slipstream--shown' suggestion on screen.")
(defvar slipstream--last nil "How the last request ended: (:outcome SYMBOL :message STRING).")
(defvar slipstream--seen nil "(BUFFER TICK POINT) after the last command.")

(defvar-local slipstream--completion-active nil
  "Non-nil while a suggestion is shown in this buffer.")

(defvar slipstream--emulation-alist
  (list (cons 'slipstream--completion-active slipstream-completion-map)))

(defun slipstream--emit (event)
  "Run `slipstream-event-functions' with EVENT."
  (run-hook-with-args 'slipstream-event-functions event))

;;; Showing a suggestion

(defun slipstream--clear-overlay ()
  "Remove the suggestion from the screen; nil when there was none."
  (let ((s slipstream--shown))
    (when s
      (setq slipstream--shown nil)
      (delete-overlay (slipstream--shown-overlay s))
      (when (buffer-live-p (slipstream--shown-buffer s))
        (with-current-buffer (slipstream--shown-buffer s)
          (setq slipstream--completion-active nil)))
      (slipstream--emit 'cleared)
      t)))

(defun slipstream--cancel-pending ()
  "Forget the request in flight and ask the server to cancel it."
  (let ((p slipstream--pending))
    (setq slipstream--pending nil)
    (when p
      (slipstream--cancel (slipstream--pending-id p)))))

(defun slipstream--stop-timer ()
  "Cancel the timer of the next automatic request."
  (when slipstream--timer
    (cancel-timer slipstream--timer)
    (setq slipstream--timer nil)))

(defun slipstream-clear ()
  "Remove the suggestion, cancel the request in flight and the timer."
  (slipstream--stop-timer)
  (slipstream--cancel-pending)
  (slipstream--clear-overlay))

(defun slipstream--item-text (item)
  "The text ITEM inserts, or nil."
  (let ((text (plist-get item :insertText)))
    (and (stringp text) (not (string-empty-p text)) text)))

(defun slipstream--items (result)
  "The items with text of an inlineCompletion RESULT, as a list."
  (let ((items (if (vectorp result) result (plist-get result :items))))
    (cl-remove-if-not #'slipstream--item-text (append items nil))))

(defun slipstream--item-end (item point)
  "Where ITEM's range ends, for a suggestion at POINT; nil if it is not at POINT."
  (let ((range (plist-get item :range)))
    (if (not range)
        point
      (let* ((here (slipstream--lsp-position point))
             (start (plist-get range :start))
             (end (plist-get range :end)))
        ;; the server's ranges start at point and end on its line (docs/protocol.md)
        (when (and (equal (plist-get start :line) (plist-get here :line))
                   (equal (plist-get start :character) (plist-get here :character))
                   (equal (plist-get end :line) (plist-get here :line)))
          (max point (slipstream--position-at (slipstream--line-start point)
                                              (plist-get end :character))))))))

(defun slipstream--display (s)
  "Draw suggestion S at its point: what the line will read after accepting.
The suggested text replaces START..END; what stays of the line follows it."
  (let* ((point (slipstream--shown-point s))
         (eol (save-excursion (goto-char point) (skip-chars-forward "^\n") (point)))
         (tail (buffer-substring (slipstream--shown-end s) eol))
         (str (concat (propertize (slipstream--shown-text s) 'face 'slipstream-suggestion-face)
                      tail))
         (ov (make-overlay point eol nil t nil)))
    (overlay-put ov 'slipstream t)
    (overlay-put ov 'window (slipstream--shown-window s))
    (overlay-put ov 'priority 100)
    (if (= point eol)
        (progn
          ;; the cursor stays in front of the ghost text
          (put-text-property 0 1 'cursor t str)
          (overlay-put ov 'after-string str))
      ;; hide the rest of the line behind the suggestion, which ends with it
      (overlay-put ov 'display (substring str 0 1))
      (overlay-put ov 'after-string (substring str 1)))
    (setf (slipstream--shown-overlay s) ov)
    (setq slipstream--shown s
          slipstream--completion-active t)
    (add-to-list 'emulation-mode-map-alists 'slipstream--emulation-alist)))

(defun slipstream--show (items index complete &optional quiet)
  "Show item INDEX of ITEMS at point.  COMPLETE: see `slipstream--shown'.
Tell the server unless QUIET.  Return nil if the item does not fit.
The caller emits `shown' (after `response')."
  (let* ((item (nth index items))
         (point (point))
         (end (slipstream--item-end item point)))
    (when end
      (slipstream--clear-overlay)
      (slipstream--display
       (slipstream--make-shown :buffer (current-buffer) :window (selected-window)
                               :tick (buffer-chars-modified-tick) :point point
                               :items items :index index :start point :end end
                               :text (slipstream--item-text item) :item item
                               :complete complete))
      (unless quiet
        (slipstream--notify 'textDocument/didShowCompletion (list :item item)))
      t)))

(defun slipstream--current ()
  "The suggestion shown, if the buffer and point are still where it was drawn."
  (let ((s slipstream--shown))
    (and s
         (eq (current-buffer) (slipstream--shown-buffer s))
         (eq (selected-window) (slipstream--shown-window s))
         (= (buffer-chars-modified-tick) (slipstream--shown-tick s))
         (= (point) (slipstream--shown-point s))
         s)))

;;; Requests

(defun slipstream--finish (outcome &optional message)
  "Record how the request ended: OUTCOME, a symbol, and MESSAGE."
  (setq slipstream--last (list :outcome outcome :message message))
  (slipstream--emit 'response))

(defun slipstream--still-at (p)
  "Non-nil when the selected window still shows request P's buffer, text and point."
  (let ((buffer (slipstream--pending-buffer p)))
    (and (buffer-live-p buffer)
         (eq (window-buffer (selected-window)) buffer)
         (with-current-buffer buffer
           (and slipstream-mode
                (= (buffer-chars-modified-tick) (slipstream--pending-tick p))
                (= (point) (slipstream--pending-point p)))))))

(defun slipstream--on-response (p result err)
  "Request P was answered with RESULT, or failed with ERR."
  (when (eq slipstream--pending p)
    (setq slipstream--pending nil)
    (let ((items (and (not err) (slipstream--items result))))
      (cond
       (err (slipstream--finish 'error (plist-get err :message))
            (when (slipstream--pending-then p)
              (message "slipstream: %s" (plist-get err :message))))
       ((not (slipstream--still-at p)) (slipstream--finish 'stale))
       ((null items)
        (slipstream--finish 'empty)
        (when (= (slipstream--pending-trigger p) 1)
          (message "slipstream: no suggestion here")))
       (t
        (with-current-buffer (slipstream--pending-buffer p)
          (if (slipstream--pending-then p)
              (funcall (slipstream--pending-then p) items)
            (slipstream--shown-outcome
             (slipstream--show items 0 (= (slipstream--pending-trigger p) 1))))))))))

(defun slipstream--shown-outcome (shown)
  "Record the outcome of a request answered with items: SHOWN or not."
  (if (not shown)
      (slipstream--finish 'error "the range does not start at point")
    (slipstream--finish 'shown)
    (slipstream--emit 'shown)))

(defun slipstream--request (trigger &optional then)
  "Ask for suggestions at point with TRIGGER (1 invoked, 2 automatic).
THEN, if given, is called with the items instead of showing the first."
  (slipstream--cancel-pending)
  (slipstream--sync)
  (when (and slipstream--uri (slipstream--ready-p))
    (let* ((p (slipstream--make-pending :buffer (current-buffer)
                                        :tick (buffer-chars-modified-tick)
                                        :point (point) :trigger trigger :then then))
           (params (list :textDocument (list :uri slipstream--uri :version slipstream--version)
                         :position (slipstream--lsp-position (point))
                         :context (list :triggerKind trigger))))
      (setq slipstream--pending p)
      (setf (slipstream--pending-id p)
            (slipstream--send-request 'textDocument/inlineCompletion params
                                      (lambda (result) (slipstream--on-response p result nil))
                                      (lambda (err) (slipstream--on-response p nil err))))
      (slipstream--emit 'request)
      p)))

(defun slipstream--on-suggestion-finished (buffer version position)
  "The whole suggestion at POSITION of BUFFER's VERSION is ready: ask again there.
Only while the suggestion of the automatic request made there is shown in
the selected window, BUFFER unchanged since the server was sent VERSION and
point still at POSITION; the answer (from the server's cache) replaces it."
  (when (and (eq (window-buffer (selected-window)) buffer)
             (not slipstream--pending))
    (with-current-buffer buffer
      (let ((s (slipstream--current))
            (here (slipstream--lsp-position (point))))
        (when (and slipstream-mode s
                   (not (slipstream--shown-complete s))
                   (eql version slipstream--version)
                   (null slipstream--changes)
                   (eql (plist-get position :line) (plist-get here :line))
                   (eql (plist-get position :character) (plist-get here :character)))
          (slipstream--request 2))))))

(defun slipstream--on-timer (buffer)
  "The typing in BUFFER paused: ask for a suggestion there."
  (setq slipstream--timer nil)
  (when (and (buffer-live-p buffer)
             (eq (window-buffer (selected-window)) buffer)
             (not (minibufferp buffer)))
    (with-current-buffer buffer
      (when slipstream-mode
        (slipstream--request 2)))))

(defun slipstream--schedule ()
  "Ask for a suggestion at point after `slipstream-idle-delay'."
  (slipstream--stop-timer)
  (setq slipstream--timer
        (run-with-timer slipstream-idle-delay nil #'slipstream--on-timer (current-buffer))))

(defun slipstream--pre-command ()
  "\\[keyboard-quit] drops the suggestion and the request in flight."
  (when (memq this-command '(keyboard-quit keyboard-escape-quit))
    (slipstream-clear)))

(defun slipstream--post-command ()
  "After each command: drop a suggestion left behind; ask again after an edit."
  (let ((seen (list (current-buffer) (buffer-chars-modified-tick) (point))))
    (unless (equal seen slipstream--seen)
      (unless (slipstream--current)
        (slipstream-clear))
      (when (and slipstream-mode
                 (eq (car seen) (car slipstream--seen))
                 (not (eql (nth 1 seen) (nth 1 slipstream--seen)))
                 (not (minibufferp)))
        ;; the text changed: ask again once the typing pauses
        (slipstream--schedule)))
    (setq slipstream--seen seen)))

(defun slipstream--note-change (_beg _end _old-length)
  "An edit removes the suggestion shown in this buffer."
  (when (and slipstream--shown (eq (slipstream--shown-buffer slipstream--shown) (current-buffer)))
    (slipstream--clear-overlay)))

(defun slipstream--mark-seen ()
  "Note the current buffer, text and point as seen by `slipstream--post-command'."
  (setq slipstream--seen (list (current-buffer) (buffer-chars-modified-tick) (point))))

;;; Commands

(defun slipstream--fallback ()
  "Run what the keys of this command do without `slipstream-completion-map'."
  (let* ((slipstream--completion-active nil)
         (command (key-binding (this-command-keys-vector) t)))
    (when (and (commandp command) (not (eq command this-command)))
      (setq this-command command)
      (call-interactively command))))

(defun slipstream--accept-command (s)
  "Tell the server that suggestion S was accepted."
  (let ((command (plist-get (slipstream--shown-item s) :command)))
    (when command
      (slipstream--send-request 'workspace/executeCommand
                                (list :command (plist-get command :command)
                                      :arguments (or (plist-get command :arguments) []))
                                #'ignore #'ignore 10))))

(defun slipstream-accept ()
  "Write the suggestion into the buffer; point goes after it."
  (interactive)
  (let ((s (slipstream--current)))
    (if (not s)
        (slipstream--fallback)
      (slipstream-clear)
      (delete-region (slipstream--shown-start s) (slipstream--shown-end s))
      (goto-char (slipstream--shown-start s))
      (insert (slipstream--shown-text s))
      (slipstream--accept-command s)
      (slipstream--emit 'accepted))))

(defun slipstream--accept-part (length)
  "Write the first LENGTH characters of the suggestion; show the rest."
  (let* ((s (slipstream--current))
         (text (and s (slipstream--shown-text s))))
    (cond
     ((not s) (slipstream--fallback))
     ((>= length (length text)) (slipstream-accept))
     (t
      (let* ((part (substring text 0 length))
             (rest (substring text length))
             (item (slipstream--shown-item s))
             (shift (length part)))
        (slipstream-clear)
        (goto-char (slipstream--shown-start s))
        (insert part)
        ;; acceptedLength: the item's text accepted so far (as VS Code counts it), not this part alone
        (slipstream--notify 'textDocument/didPartiallyAcceptCompletion
                            (list :item item
                                  :acceptedLength (let ((slipstream--encoding "utf-16")
                                                        (full (slipstream--item-text item)))
                                                    (with-temp-buffer
                                                      (insert (substring full 0 (- (length full) (length rest))))
                                                      (slipstream--units (point-min) (point-max))))))
        (slipstream--display
         (slipstream--make-shown :buffer (current-buffer) :window (selected-window)
                                 :tick (buffer-chars-modified-tick) :point (point)
                                 :items (list item) :index 0 :start (point)
                                 :end (+ (slipstream--shown-end s) shift)
                                 :text rest :item item :complete t))
        (slipstream--emit 'shown)
        (slipstream--mark-seen))))))

(defun slipstream-accept-word ()
  "Write the suggestion up to the end of its next word; show the rest."
  (interactive)
  (let ((s (slipstream--current)))
    (slipstream--accept-part
     (if (not s)
         0
       (let ((table (syntax-table)))
         (with-temp-buffer
           (set-syntax-table table)
           (insert (slipstream--shown-text s))
           (goto-char (point-min))
           (forward-word 1)
           (max 1 (1- (point)))))))))

(defun slipstream-accept-line ()
  "Write the suggestion up to and with its next line break; show the rest."
  (interactive)
  (let* ((s (slipstream--current))
         (text (and s (slipstream--shown-text s))))
    (slipstream--accept-part
     (if (not s)
         0
       (let ((nl (string-search "\n" text)))
         (if nl (1+ nl) (length text)))))))

(defun slipstream-dismiss ()
  "Remove the suggestion and cancel the request in flight."
  (interactive)
  (slipstream-clear))

(defun slipstream-complete ()
  "Ask for a suggestion at point now, with its alternatives (M-n, M-p)."
  (interactive)
  (cond
   ((not slipstream-mode) (user-error "slipstream-mode is off in this buffer"))
   ((not (slipstream--ready-p))
    (message "slipstream: %s" (slipstream--not-ready-reason)))
   (t (slipstream-clear)
      (slipstream--request 1))))

(defun slipstream--cycle (direction)
  "Show the alternative DIRECTION (1 or -1) items away."
  (let ((s (slipstream--current)))
    (cond
     ;; a key of `slipstream-completion-map' with no suggestion left: the key's own command
     ((not s) (if slipstream--completion-active (slipstream--fallback) (slipstream-complete)))
     ((not (slipstream--shown-complete s))
      ;; one suggestion from an automatic request: ask for the alternatives here
      (let ((text (slipstream--shown-text s)))
        (slipstream--request
         1 (lambda (items)
             (let* ((order (if (> direction 0) (number-sequence 0 (1- (length items)))
                             (number-sequence (1- (length items)) 0 -1)))
                    (index (cl-find-if (lambda (i) (not (equal (slipstream--item-text (nth i items)) text)))
                                       order)))
               (unless index (message "slipstream: no other suggestion here"))
               (slipstream--shown-outcome
                (slipstream--show items (or index 0) t (not index))))))))
     ((cdr (slipstream--shown-items s))
      (let ((items (slipstream--shown-items s)))
        (when (slipstream--show items (mod (+ (slipstream--shown-index s) direction) (length items)) t)
          (slipstream--emit 'shown))))
     (t (message "slipstream: no other suggestion here")))))

(defun slipstream-next ()
  "Show the next alternative suggestion (asking for them if needed)."
  (interactive)
  (slipstream--cycle 1))

(defun slipstream-previous ()
  "Show the previous alternative suggestion (asking for them if needed)."
  (interactive)
  (slipstream--cycle -1))

(defun slipstream-state ()
  "The client's state as a plist.
The server's state, the request in flight, the suggestion shown and how
the last request ended."
  (let ((s slipstream--shown))
    (list :server slipstream--server-state
          :problem slipstream--server-problem
          :encoding slipstream--encoding
          :pending (and slipstream--pending (slipstream--pending-id slipstream--pending))
          :suggestion (and s (list :text (slipstream--shown-text s)
                                   :start (slipstream--shown-start s)
                                   :end (slipstream--shown-end s)
                                   :index (slipstream--shown-index s)
                                   :texts (mapcar #'slipstream--item-text
                                                  (slipstream--shown-items s))))
          :last slipstream--last)))

(defun slipstream--format-status (status)
  "A one-line summary of the server's `slipstream/status' STATUS."
  (let* ((engine (plist-get status :engine))
         (model (plist-get engine :model))
         (latency (plist-get status :latency))
         (events (plist-get status :events)))
    (concat
     (format "slipstream %s: %s, model %s, mode %s, %s, %s shown, %s accepted"
             (plist-get status :version) (plist-get engine :state)
             (if model (plist-get model :dir) "(none)")
             (plist-get engine :mode)
             (if (and latency (> (plist-get latency :count) 0))
                 (format "last %.0f ms (median %.0f ms)"
                         (plist-get latency :lastMs) (plist-get latency :p50Ms))
               "no requests yet")
             (plist-get events :shown) (plist-get events :accepted))
     (slipstream--format-retention (plist-get events :retention)))))

(defun slipstream--format-retention (retention)
  "\", still there: 92% after 30 s, 75% after 5 min\" from RETENTION, or \"\".
RETENTION is `slipstream/status' events.retention: the accepted characters
still in the document at each checkpoint."
  (let ((parts
         (delq nil
               (mapcar (lambda (c)
                         (let ((accepted (plist-get c :acceptedChars))
                               (seconds (plist-get c :afterSeconds)))
                           (when (and (numberp accepted) (> accepted 0))
                             (format "%.0f%% after %s"
                                     (/ (* 100.0 (plist-get c :retainedChars)) accepted)
                                     (if (< seconds 60) (format "%d s" seconds)
                                       (format "%d min" (/ seconds 60)))))))
                       (append (plist-get retention :checkpoints) nil)))))
    (if parts (concat ", still there: " (string-join parts ", ")) "")))

(defun slipstream--not-ready-reason ()
  "Why the server cannot be asked, a phrase."
  (cond (slipstream--server-problem (format "not running: %s" slipstream--server-problem))
        (slipstream--server-state "the server is starting")
        (t "not running")))

(defun slipstream-status ()
  "Show the server's state, model, decoding mode and latency."
  (interactive)
  (if (not (slipstream--ready-p))
      (message "slipstream: %s" (slipstream--not-ready-reason))
    (slipstream--send-request 'slipstream/status (make-hash-table)
                              (lambda (status) (message "%s" (slipstream--format-status status)))
                              (lambda (err) (message "slipstream: status: %s" (plist-get err :message)))
                              5)))

;;; Modes

(defun slipstream--on-opened (buffer)
  "BUFFER is open on the server."
  (with-current-buffer buffer
    (slipstream--emit 'attached)))

(defun slipstream--on-server-exit ()
  "The server went away: drop what was shown or asked."
  (setq slipstream--pending nil)
  (slipstream--stop-timer)
  (slipstream--clear-overlay))

(defun slipstream--on-change-major-mode ()
  "The major mode changes: close the buffer (a global mode reopens it)."
  (slipstream-mode -1))

;;;###autoload
(define-minor-mode slipstream-mode
  "Ghost-text completions from the Slipstream language server.
After `slipstream-idle-delay' seconds without typing a suggestion is
drawn at point; \\<slipstream-completion-map>\\[slipstream-accept] accepts it, \
\\[slipstream-next] and \\[slipstream-previous] cycle
through alternatives.  \\<slipstream-mode-map>\\[slipstream-complete] asks now.  \
One server runs per Emacs."
  :lighter " Slip"
  :keymap slipstream-mode-map
  (cond
   (slipstream-mode
    (add-hook 'after-change-functions #'slipstream--note-change nil t)
    (add-hook 'change-major-mode-hook #'slipstream--on-change-major-mode nil t)
    (add-hook 'post-command-hook #'slipstream--post-command)
    (add-hook 'pre-command-hook #'slipstream--pre-command)
    (add-hook 'slipstream-document-opened-functions #'slipstream--on-opened)
    (add-hook 'slipstream-suggestion-finished-functions #'slipstream--on-suggestion-finished)
    (add-hook 'slipstream-server-exit-hook #'slipstream--on-server-exit)
    (slipstream--want (current-buffer)))
   (t
    (when (and slipstream--shown (eq (slipstream--shown-buffer slipstream--shown) (current-buffer)))
      (slipstream-clear))
    (when (and slipstream--pending (eq (slipstream--pending-buffer slipstream--pending) (current-buffer)))
      (slipstream--cancel-pending))
    (remove-hook 'after-change-functions #'slipstream--note-change t)
    (remove-hook 'change-major-mode-hook #'slipstream--on-change-major-mode t)
    (slipstream--unwant))))

(defun slipstream--turn-on ()
  "Turn on `slipstream-mode' in a buffer that visits a file."
  (when (and buffer-file-name
             (not (buffer-base-buffer))
             (not (minibufferp))
             (not (apply #'derived-mode-p slipstream-global-disabled-modes)))
    (slipstream-mode 1)))

;;;###autoload
(define-globalized-minor-mode global-slipstream-mode slipstream-mode slipstream--turn-on
  :group 'slipstream)

(provide 'slipstream)
;;; slipstream.el ends here
