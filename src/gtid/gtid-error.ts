import { PitrError } from '../errors/index.js';

/** A GTID or GTID set in text form could not be parsed, or two sets cannot be combined. */
export class GtidError extends PitrError {
  /** The text that was being parsed (shortened to 200 characters). */
  readonly input: string;

  constructor(input: string, detail: string, options?: ErrorOptions) {
    const shown = input.length > 200 ? `${input.slice(0, 200)}...` : input;
    super('GTID_INVALID', `invalid GTID ${JSON.stringify(shown)}: ${detail}`, options);
    this.input = shown;
  }
}
