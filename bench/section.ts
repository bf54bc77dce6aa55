/**
 * What main.ts gives each section and what a section is: the sections import these types from here, main.ts
 * imports the sections, so nothing imports main.ts.
 */

export interface SectionContext {
  readonly root: string;
  /** Where run.mjs put the bundles; sections may write their own files under it. */
  readonly dir: string;
  readonly quick: boolean;
  /** Progress on stderr (the figures go to stdout). */
  log(message: string): void;
  /** The emulator's endpoint and its access log (one line per AWS request), when a section that needs one is selected. */
  readonly awsEndpoint?: string;
  readonly awsLog?: string;
}

export interface Section {
  readonly id: string;
  readonly title: string;
  readonly needsAws: boolean;
  /** The section's Markdown (without its heading); throws when the section could not run at all. */
  run(ctx: SectionContext): Promise<string>;
}
