CREATE TABLE "knowledge_channels" (
	"workspace_id" uuid NOT NULL,
	"channel_external_id" text NOT NULL,
	"channel_kind" text DEFAULT 'channel' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"archived" boolean DEFAULT false NOT NULL,
	"backfill" text DEFAULT 'none' NOT NULL,
	"cursor" text,
	"pages" integer DEFAULT 0 NOT NULL,
	"messages" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"claimed_by" text,
	"lease_until" timestamp with time zone,
	"not_before" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "knowledge_channels_workspace_id_channel_external_id_pk" PRIMARY KEY("workspace_id","channel_external_id")
);
--> statement-breakpoint
CREATE TABLE "knowledge_chunks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"channel_external_id" text NOT NULL,
	"channel_kind" text NOT NULL,
	"dm_owner_user_id" text,
	"source_kind" text NOT NULL,
	"source_id" text NOT NULL,
	"thread_id" text,
	"author_user_id" text,
	"chunk_no" integer DEFAULT 0 NOT NULL,
	"content" text NOT NULL,
	"permalink" text,
	"source_at" timestamp with time zone NOT NULL,
	"tsv" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "knowledge_channels" ADD CONSTRAINT "knowledge_channels_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD CONSTRAINT "knowledge_chunks_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "knowledge_channels_backfill" ON "knowledge_channels" USING btree ("backfill","not_before") WHERE backfill in ('pending', 'running');--> statement-breakpoint
CREATE UNIQUE INDEX "knowledge_chunks_source" ON "knowledge_chunks" USING btree ("workspace_id","channel_external_id","source_kind","source_id","chunk_no");--> statement-breakpoint
CREATE INDEX "knowledge_chunks_tsv" ON "knowledge_chunks" USING gin ("tsv");--> statement-breakpoint
CREATE INDEX "knowledge_chunks_author" ON "knowledge_chunks" USING btree ("workspace_id","author_user_id");--> statement-breakpoint
CREATE INDEX "knowledge_chunks_dm_owner" ON "knowledge_chunks" USING btree ("workspace_id","dm_owner_user_id") WHERE channel_kind = 'dm';--> statement-breakpoint
CREATE INDEX "knowledge_chunks_file" ON "knowledge_chunks" USING btree ("workspace_id","source_kind","source_id");--> statement-breakpoint
CREATE INDEX "knowledge_chunks_age" ON "knowledge_chunks" USING btree ("workspace_id","source_at");