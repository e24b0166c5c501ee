/**
 * `/agent …` commands: one grammar for Slack (slash command) and Teams (a message starting
 * with /agent), parsed and answered in the core so both platforms behave the same.
 * The grammar lives in commands/grammar.ts, execution in commands/run.ts.
 */
export { COMMAND_WORDS, HELP_LINES, USAGE, commandSchema, helpFor, helpText, isCommandText, isOpen, parseCommand, tokenize, usageOf } from './commands/grammar.js';
export type { Command, CommandWord, HelpLine, ParsedCommand } from './commands/grammar.js';
export { runCommand } from './commands/run.js';
export type { CommandContext } from './commands/run.js';
