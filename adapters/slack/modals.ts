/**
 * The core's Dialog as a Slack modal, and a submitted modal's values as the core's fields. What the
 * submission must bring back (the dialog's action id and value, where it was opened from) travels
 * in `private_metadata`, which Slack returns untouched with the signed submission.
 */
import { z } from 'zod';
import type { ChannelRef } from '../../src/core/envelope.js';
import { channelRefSchema } from '../../src/core/envelope.js';
import type { Dialog, DialogField } from '../../src/core/interactions.js';

/** Slack keeps at most 3,000 characters of private_metadata. */
const MAX_METADATA_CHARS = 3_000;

export interface DialogMetadata {
  actionId: string;
  value: string;
  channel?: ChannelRef;
  responseUrl?: string;
}

const metadataSchema = z.object({ a: z.string(), v: z.string().default(''), c: channelRefSchema.optional(), r: z.string().optional() });

/** Reads private_metadata back; a modal Quorum did not open has the callback id only. */
export function metadataOf(raw: string, callbackId: string): DialogMetadata {
  let parsed: z.infer<typeof metadataSchema> | null = null;
  try {
    const result = metadataSchema.safeParse(JSON.parse(raw || 'null'));
    parsed = result.success ? result.data : null;
  } catch {
    parsed = null;
  }
  if (!parsed) return { actionId: callbackId, value: '' };
  return { actionId: parsed.a, value: parsed.v, ...(parsed.c ? { channel: parsed.c } : {}), ...(parsed.r ? { responseUrl: parsed.r } : {}) };
}

function metadata(dialog: Dialog, from: Omit<DialogMetadata, 'actionId' | 'value'>): string {
  const full = JSON.stringify({ a: dialog.actionId, v: dialog.value, ...(from.channel ? { c: from.channel } : {}), ...(from.responseUrl ? { r: from.responseUrl } : {}) });
  if (full.length <= MAX_METADATA_CHARS) return full;
  // The response_url is a convenience (a DM works too); the dialog's own value is not.
  return JSON.stringify({ a: dialog.actionId, v: dialog.value, ...(from.channel ? { c: from.channel } : {}) });
}

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: text.slice(0, max), emoji: true });

function element(field: DialogField): Record<string, unknown> {
  if (field.kind === 'select') {
    const options = (field.options ?? []).map((o) => ({ text: plain(o.label, 75), value: o.value }));
    const initial = options.find((o) => o.value === field.initial);
    return { type: 'static_select', action_id: field.name, options, ...(initial ? { initial_option: initial } : {}) };
  }
  return {
    type: 'plain_text_input',
    action_id: field.name,
    multiline: field.kind === 'multiline',
    ...(field.initial ? { initial_value: field.initial } : {}),
    // Slack's own bound: 3,000 characters per input.
    max_length: Math.min(field.maxLength ?? 3_000, 3_000),
  };
}

/** A Block Kit modal for the dialog: one input block per field (block_id = action_id = the field's name). */
export function dialogView(dialog: Dialog, from: Omit<DialogMetadata, 'actionId' | 'value'>): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: dialog.actionId,
    title: plain(dialog.title, 24),
    submit: plain(dialog.submitLabel, 24),
    close: plain('Cancel', 24),
    private_metadata: metadata(dialog, from),
    blocks: [
      ...(dialog.intro ? [{ type: 'section', text: { type: 'plain_text', text: dialog.intro.slice(0, 3_000), emoji: false } }] : []),
      ...dialog.fields.map((field) => ({
        type: 'input',
        block_id: field.name,
        label: plain(field.label, 150),
        optional: field.optional,
        element: element(field),
      })),
    ],
  };
}

type StateValues = Record<string, Record<string, { type: string; value?: unknown; selected_option?: unknown }>>;

/** A submitted modal's values by field name: text inputs' text, selects' chosen value; empty ones left out. */
export function fieldsOf(values: StateValues): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const block of Object.values(values)) {
    for (const [name, input] of Object.entries(block)) {
      const selected = (input.selected_option as { value?: unknown } | null | undefined)?.value;
      const value = typeof input.value === 'string' ? input.value : typeof selected === 'string' ? selected : null;
      if (value !== null) fields[name.slice(0, 100)] = value.slice(0, 40_000);
    }
  }
  return fields;
}
