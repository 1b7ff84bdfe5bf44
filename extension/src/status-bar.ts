/**
 * The status bar item: a spinner while the server starts, then "<model> · <backend> <last latency>"
 * from `slipstream/status` (refreshed every 5 s and shortly after each completion), a crossed-out
 * icon when suggestions are off (everywhere or for the active editor's language), and an error
 * state (red) whose message the click shows. The tooltip adds the last request's stage breakdown
 * (trace-view.ts, from `slipstream/traces`). The click runs `slipstream.menu`.
 */
import * as vscode from 'vscode';
import type { RequestTrace, StatusResult } from '../../server/src/protocol.js';
import { statusBarText, statusBarTooltip } from './status-view.js';
import { lastRequestLines } from './trace-view.js';

export type ClientPhase = { phase: 'starting' } | { phase: 'running' } | { phase: 'failed'; message: string };

export class StatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('slipstream.status', vscode.StatusBarAlignment.Right, 100);
  private client: ClientPhase = { phase: 'starting' };
  private last: StatusResult | null = null;
  private lastTrace: RequestTrace | null = null;
  private off: string | null = null;
  private soon: ReturnType<typeof setTimeout> | undefined;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly fetchStatus: () => Promise<StatusResult | null>,
    private readonly fetchLastTrace: () => Promise<RequestTrace | null> = async () => null,
  ) {
    this.item.name = 'Slipstream';
    this.item.command = 'slipstream.menu';
    this.render();
    this.item.show();
    this.timer = setInterval(() => void this.refresh(), 5000);
  }

  /** The error shown in the status bar, if any (the click shows it). */
  get error(): string | null {
    if (this.client.phase === 'failed') return this.client.message;
    const e = this.last?.engine.error;
    return e ? `${e.message} [${e.code}]` : null;
  }

  setClient(phase: ClientPhase): void {
    this.client = phase;
    if (phase.phase !== 'running') this.last = null;
    this.render();
    if (phase.phase === 'running') void this.refresh();
  }

  /** Why suggestions are off here (null: they are on). */
  setOff(reason: string | null): void {
    this.off = reason;
    this.render();
  }

  /** Refreshes after a short delay (after a completion: the server's last latency has changed). */
  refreshSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.refresh();
    }, 300);
  }

  async refresh(): Promise<void> {
    if (this.client.phase !== 'running') return;
    const [status, trace] = await Promise.allSettled([this.fetchStatus(), this.fetchLastTrace()]);
    this.last = status.status === 'fulfilled' ? status.value : null;
    this.lastTrace = trace.status === 'fulfilled' ? trace.value : null;
    this.render();
  }

  private render(): void {
    const it = this.item;
    it.backgroundColor = undefined;
    if (this.client.phase === 'starting') {
      it.text = '$(loading~spin) Slipstream';
      it.tooltip = 'Slipstream: starting the server';
    } else if (this.error) {
      it.text = '$(error) Slipstream';
      it.tooltip = `Slipstream: ${this.error} (click for details)`;
      it.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (this.off) {
      it.text = '$(circle-slash) Slipstream';
      it.tooltip = `Slipstream: ${this.off} (click to turn on)`;
    } else {
      it.text = this.last ? `$(zap) ${statusBarText(this.last)}` : '$(zap) Slipstream';
      it.tooltip = this.last ? [statusBarTooltip(this.last), ...lastRequestLines(this.lastTrace)].join('\n') : 'Slipstream';
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.item.dispose();
  }
}
