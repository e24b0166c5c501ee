/**
 * The marker that opens a message carrying tool or specialist results back to a model. The
 * offline model reads it to answer from results instead of asking for tools again.
 */
export const RESULTS_MARKER = '[results]';
