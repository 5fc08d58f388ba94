/** A synth-time setting that cannot be used; main.ts prints its message as one line. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}
