// A recording NetCommands for tests: every call is logged; answers come from a handler.
import type { CommandResult, NetCommands } from '../nft.ts';

export type FakeCall =
  | { readonly tool: 'nft'; readonly text: string }
  | { readonly tool: 'nft-args' | 'iptables' | 'ip' | 'conntrack'; readonly args: readonly string[] }
  | { readonly tool: 'sysctl-set'; readonly args: readonly string[] };

const OK: CommandResult = { code: 0, stdout: '', stderr: '' };

export class FakeNetCommands implements NetCommands {
  readonly calls: FakeCall[] = [];
  readonly sysctls = new Map<string, string>();
  /** Return a non-undefined result to answer a call; default: success with no output. */
  answer: (call: FakeCall) => CommandResult | undefined = () => undefined;

  #reply(c: FakeCall): Promise<CommandResult> {
    this.calls.push(c);
    return Promise.resolve(this.answer(c) ?? OK);
  }

  nft(text: string): Promise<CommandResult> { return this.#reply({ tool: 'nft', text }); }
  nftArgs(args: readonly string[]): Promise<CommandResult> { return this.#reply({ tool: 'nft-args', args }); }
  iptables(args: readonly string[]): Promise<CommandResult> { return this.#reply({ tool: 'iptables', args }); }
  ip(args: readonly string[]): Promise<CommandResult> { return this.#reply({ tool: 'ip', args }); }
  conntrack(args: readonly string[]): Promise<CommandResult> { return this.#reply({ tool: 'conntrack', args }); }
  sysctl(name: string): string | null { return this.sysctls.get(name) ?? null; }
  setSysctl(name: string, value: string): Promise<CommandResult> {
    this.sysctls.set(name, value);
    return this.#reply({ tool: 'sysctl-set', args: [name, value] });
  }

  /** The nft texts loaded so far. */
  get loaded(): string[] {
    return this.calls.flatMap((c) => (c.tool === 'nft' ? [c.text] : []));
  }
}
