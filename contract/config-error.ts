/** Thrown when a configuration document is invalid (cold start, `cdk synth`, the CLI); the message names the field. */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}
