/**
 * editors/vim in a real Vim (9.0.0121 or later; Debian ships 9.0.1378) against the real server and
 * the shipped model: the shared editor suite. The suggestion is read back from Vim's screen
 * (screenstring()): this Vim's prop_list() does not return the text of virtual-text properties.
 * Skips with a reason when vim is not installed; CI installs it.
 */
import { findEditor } from './editor-session.js';
import { editorSuite } from './editor-suite.js';
import { VimSession } from './vim-session.js';

function tooOld(versionText: string): string | undefined {
  const major = /VIM - Vi IMproved (\d+)\.(\d+)/.exec(versionText);
  const patches = /Included patches: 1-(\d+)/.exec(versionText);
  if (!major || Number(major[1]) < 9) return 'is older than 9.0';
  if (Number(major[1]) === 9 && Number(major[2]) === 0 && (!patches || Number(patches[1]) < 121)) return 'is older than 9.0.0121 (virtual text below a line)';
  if (!/\+job\b/.test(versionText) || !/\+channel\b/.test(versionText) || !/\+textprop\b/.test(versionText)) return 'lacks +job, +channel or +textprop';
  return undefined;
}

editorSuite({
  name: 'vim',
  tool: findEditor('vim', tooOld),
  start: (opts) => VimSession.start(opts),
});
