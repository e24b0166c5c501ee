/** The shape of one command's entry in the grammar (grammar.ts and the files that hold a group of commands). */
import type { z } from 'zod';
import type { CommandName } from '../access/policy.js';

/** One form of a command, as `/agent help` lists it. */
export interface HelpLine {
  usage: string;
  /** One line: what it does (also the Teams command menu's description, at most 128 characters). */
  summary: string;
  /** The policy's name for this form: who may run it is the policy's word, not the help text's. */
  policy: CommandName;
  /** Offered in the Teams command menu, which holds at most 10 (the rest are in `/agent help`). */
  menu?: true;
}

export interface Rule<C> {
  /** Every form of the command; the usage line on bad input is these forms joined. */
  forms: HelpLine[];
  /** `/agent help COMMAND`: what it does in a few sentences, with an example. */
  details: string;
  /** Parses the arguments (the words after the command's name). */
  args: z.ZodType<C, string[]>;
  /** The arguments are free text: `args` gets the rest of the line as one string, case and spacing kept. */
  raw?: true;
}
