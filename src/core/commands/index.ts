/**
 * `/agent …` commands: one grammar for Slack (slash command) and Teams (a message starting
 * with /agent), parsed and answered in the core so both platforms behave the same.
 * The grammar lives in grammar.ts, execution in run.ts.
 */
export { COMMAND_WORDS, HELP_LINES, USAGE, commandSchema, helpFor, helpText, isCommandText, isOpen, parseCommand, tokenize, usageOf } from './grammar.js';
export type { Command, CommandWord, HelpLine, ParsedCommand } from './grammar.js';
export { runCommand } from './run.js';
export type { CommandAnswer, CommandContext } from './run.js';
