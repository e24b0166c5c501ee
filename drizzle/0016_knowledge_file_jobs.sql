CREATE TABLE "knowledge_file_jobs" (
	"workspace_id" uuid NOT NULL,
	"channel_external_id" text NOT NULL,
	"channel_kind" text NOT NULL,
	"dm_owner_user_id" text,
	"file_id" text NOT NULL,
	"name" text NOT NULL,
	"mimetype" text,
	"permalink" text,
	"thread_id" text,
	"author_user_id" text,
	"shared_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"chunks" integer DEFAULT 0 NOT NULL,
	"claimed_by" text,
	"lease_until" timestamp with time zone,
	"not_before" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "knowledge_file_jobs_workspace_id_channel_external_id_file_id_pk" PRIMARY KEY("workspace_id","channel_external_id","file_id")
);
--> statement-breakpoint
ALTER TABLE "knowledge_file_jobs" ADD CONSTRAINT "knowledge_file_jobs_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "knowledge_file_jobs_due" ON "knowledge_file_jobs" USING btree ("status","not_before") WHERE status in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "knowledge_file_jobs_file" ON "knowledge_file_jobs" USING btree ("workspace_id","file_id");