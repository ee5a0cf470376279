// A recording SdNotifier for tests.
import type { SdNotifier } from '../sd-notify.ts';

export class FakeSdNotifier implements SdNotifier {
  readonly enabled = true;
  readonly sent: Record<string, string>[] = [];

  async notify(fields: Readonly<Record<string, string>>): Promise<void> {
    this.sent.push({ ...fields });
  }
}
