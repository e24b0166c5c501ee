-- A DM's conversation is keyed by its owner's platform user id (conversation-key.ts), not by the
-- principal's row id, so that the key is known before the principal is read.
UPDATE "conversations" AS c
SET "thread_key" = 'dm:' || p."platform_user_id"
FROM "principals" AS p
WHERE c."kind" = 'dm'
  AND c."owner_principal_id" = p."id"
  AND c."workspace_id" = p."workspace_id"
  AND c."thread_key" = 'dm:' || p."id"::text;
