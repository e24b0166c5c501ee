/**
 * The isolation property, shared by the test (real database, ≥500 scenarios) and the bench
 * (20,000): random workspaces with colliding ids, users, channels, memberships, DMs and thread
 * messages each carrying a unique canary; random turns through the real core on the path main.ts
 * wires (runTurn with the agent: the recording model's answers delegate nothing, so the planner's
 * call is the answer); no canary may reach a prompt or a reply whose audience may not see where
 * it came from.
 */
import fc from 'fast-check';
import type { EnvelopeInput } from '../../src/core/envelope.js';
import { envelopeSchema } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { UserFacts } from '../../src/core/identity.js';
import type { OutgoingReply, PlatformPorts, ReplyTarget } from '../../src/core/ports.js';
import { runTurn, type CoreDeps } from '../../src/core/turn.js';
import { RecordingModelGate } from '../fakes/recording-model.js';

// Few users and places, so that random turns often meet the same history.
const USERS = ['U1', 'U2', 'U3'] as const;
const CHANNELS = ['C1', 'C2'] as const;
const DM = CHANNELS.length;

type Op =
  | { kind: 'turn'; ws: number; user: number; where: number; thread: number }
  | { kind: 'leave' | 'join'; ws: number; user: number; channel: number }
  | { kind: 'down' | 'up' };

export interface Scenario {
  workspaces: number;
  roles: ('member' | 'guest' | 'admin')[][];
  /** ws -> channel -> member user indexes */
  members: boolean[][][];
  ops: Op[];
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 3 }).chain((workspaces) =>
  fc.record({
    workspaces: fc.constant(workspaces),
    roles: fc.array(fc.array(fc.constantFrom('member' as const, 'guest' as const, 'admin' as const), { minLength: USERS.length, maxLength: USERS.length }), {
      minLength: workspaces,
      maxLength: workspaces,
    }),
    members: fc.array(fc.array(fc.array(fc.constantFrom(true, true, true, false), { minLength: USERS.length, maxLength: USERS.length }), { minLength: CHANNELS.length, maxLength: CHANNELS.length }), {
      minLength: workspaces,
      maxLength: workspaces,
    }),
    ops: fc.array(
      fc.oneof(
        { weight: 8, arbitrary: fc.record({ kind: fc.constant('turn' as const), ws: fc.nat(workspaces - 1), user: fc.nat(USERS.length - 1), where: fc.nat(DM), thread: fc.constantFrom(0, 0, 1) }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('leave' as const, 'join' as const), ws: fc.nat(workspaces - 1), user: fc.nat(USERS.length - 1), channel: fc.nat(CHANNELS.length - 1) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('down' as const, 'up' as const) }) },
      ),
      { minLength: 2, maxLength: 5 },
    ),
  }),
);

/** A platform with workspace-scoped membership (the shared FakePlatform keys by channel only). */
export class ScopedFakePlatform implements PlatformPorts {
  readonly members = new Map<string, Set<string>>();
  readonly roles = new Map<string, UserFacts>();
  readonly posted: { target: ReplyTarget; reply: OutgoingReply }[] = [];
  down = false;
  membership = {
    isMember: async (w: { externalId: string }, channel: { id: string }, userId: string) => {
      if (this.down) throw new QuorumError('MEMBERSHIP_UNAVAILABLE', 'fake platform is down');
      return this.members.get(`${w.externalId}/${channel.id}`)?.has(userId) ?? false;
    },
  };
  directory = {
    lookup: async (w: { externalId: string }, user: { id: string }): Promise<UserFacts> =>
      this.roles.get(`${w.externalId}/${user.id}`) ?? { platformRole: 'member', deleted: false },
  };
  replies = {
    post: async (target: ReplyTarget, reply: OutgoingReply) => {
      this.posted.push({ target, reply });
      return { platformMessageId: `m${this.posted.length}` };
    },
  };
  isIn(ws: string, channel: string, user: string): boolean {
    return this.members.get(`${ws}/${channel}`)?.has(user) ?? false;
  }
}

type Source = { ws: string; kind: 'dm'; owner: string } | { ws: string; kind: 'channel'; channel: string };
type Audience = { ws: string; kind: 'dm'; user: string } | { ws: string; kind: 'channel'; channel: string };

const CANARY = /CANARY-[0-9a-z]+-\d+/g;

export interface IsolationRun {
  turns: number;
  answered: number;
  canariesChecked: number;
}

/**
 * Runs one scenario. `deps` supplies the stores; `model` and `platform` are the ones in deps.
 * `tag` makes workspace ids unique per scenario so scenarios can share one database.
 */
export async function runScenario(
  s: Scenario,
  deps: CoreDeps,
  model: RecordingModelGate,
  platform: ScopedFakePlatform,
  tag: string,
): Promise<IsolationRun> {
  const wsId = (i: number) => `${tag}-w${i}`;
  for (let w = 0; w < s.workspaces; w++) {
    USERS.forEach((u, ui) => platform.roles.set(`${wsId(w)}/${u}`, { platformRole: s.roles[w]![ui]!, deleted: false }));
    CHANNELS.forEach((c, ci) =>
      platform.members.set(`${wsId(w)}/${c}`, new Set(USERS.filter((_, ui) => s.members[w]![ci]![ui]))),
    );
  }
  platform.down = false;
  const sources = new Map<string, Source>();
  const result: IsolationRun = { turns: 0, answered: 0, canariesChecked: 0 };
  let n = 0;

  const visible = (src: Source, aud: Audience, requester: string): boolean => {
    if (src.ws !== aud.ws) return false;
    if (src.kind === 'dm') return aud.kind === 'dm' && aud.user === src.owner;
    if (aud.kind === 'channel') return aud.channel === src.channel;
    return platform.isIn(aud.ws, src.channel, requester);
  };
  const check = (text: string, aud: Audience, requester: string, own: string) => {
    for (const canary of text.match(CANARY) ?? []) {
      if (canary === own) continue;
      result.canariesChecked++;
      const src = sources.get(canary);
      if (!src || !visible(src, aud, requester))
        throw new Error(`canary ${canary} from ${JSON.stringify(src)} reached ${JSON.stringify(aud)} (requester ${requester})`);
    }
  };

  for (const op of s.ops) {
    if (!('ws' in op)) {
      platform.down = op.kind === 'down';
      continue;
    }
    const ws = wsId(op.ws);
    const user = USERS[op.user]!;
    if (!('where' in op)) {
      const set = platform.members.get(`${ws}/${CHANNELS[op.channel]!}`)!;
      if (op.kind === 'leave') set.delete(user);
      else set.add(user);
      continue;
    }
    const canary = `CANARY-${tag}-${n++}`;
    const dm = op.where === DM;
    const channel = dm ? `D-${user}` : CHANNELS[op.where]!;
    const audience: Audience = dm ? { ws, kind: 'dm', user } : { ws, kind: 'channel', channel };
    sources.set(canary, dm ? { ws, kind: 'dm', owner: user } : { ws, kind: 'channel', channel });
    const messageId = `${tag}-m${n}`;
    const envelope: EnvelopeInput = {
      kind: dm ? 'direct' : 'mention',
      idempotencyKey: messageId,
      workspace: { platform: 'slack', externalId: ws },
      user: { id: user },
      channel: { id: channel, kind: dm ? 'dm' : 'channel' },
      ...(dm ? {} : { threadId: `t${op.thread}` }),
      messageId,
      text: `question ${canary}`,
      receivedAt: new Date(),
    };
    const calls = model.calls.length;
    const posts = platform.posted.length;
    await runTurn(deps, envelopeSchema.parse(envelope));
    result.turns++;
    for (const call of model.calls.slice(calls)) {
      for (const m of call.messages) check(m.content, audience, user, canary);
      // A prompt in a channel the requester is not in (or could not be checked) must not exist at all.
      if (!dm && (platform.down || !platform.isIn(ws, channel, user))) throw new Error(`a prompt was built for a non-member in ${channel}`);
    }
    for (const { reply } of platform.posted.slice(posts)) {
      if (reply.kind === 'answer') result.answered++;
      check(reply.text, audience, user, canary);
    }
  }
  return result;
}

export { RecordingModelGate };
