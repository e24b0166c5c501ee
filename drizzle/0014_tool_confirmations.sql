CREATE TABLE "pending_confirmations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"source_key" text NOT NULL,
	"requester_principal_id" uuid NOT NULL,
	"requester_user_id" text NOT NULL,
	"channel_external_id" text NOT NULL,
	"tool" text NOT NULL,
	"input" jsonb,
	"envelope" jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"decided_by_user_id" text,
	"decided_at" timestamp with time zone,
	"result" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tool_confirm_rules" (
	"workspace_id" uuid NOT NULL,
	"channel_external_id" text NOT NULL,
	"pattern" text NOT NULL,
	"mode" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tool_confirm_rules_workspace_id_channel_external_id_pattern_pk" PRIMARY KEY("workspace_id","channel_external_id","pattern")
);
--> statement-breakpoint
CREATE TABLE "tool_credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection" text NOT NULL,
	"principal_id" uuid,
	"sealed" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pending_confirmations" ADD CONSTRAINT "pending_confirmations_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pending_confirmations" ADD CONSTRAINT "pending_confirmations_requester_principal_id_principals_id_fk" FOREIGN KEY ("requester_principal_id") REFERENCES "public"."principals"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tool_confirm_rules" ADD CONSTRAINT "tool_confirm_rules_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tool_credentials" ADD CONSTRAINT "tool_credentials_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tool_credentials" ADD CONSTRAINT "tool_credentials_principal_id_principals_id_fk" FOREIGN KEY ("principal_id") REFERENCES "public"."principals"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "pending_confirmations_source" ON "pending_confirmations" USING btree ("workspace_id","source_key");--> statement-breakpoint
CREATE INDEX "pending_confirmations_expiry" ON "pending_confirmations" USING btree ("state","expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "tool_credentials_person" ON "tool_credentials" USING btree ("workspace_id","connection","principal_id") WHERE "tool_credentials"."principal_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "tool_credentials_workspace" ON "tool_credentials" USING btree ("workspace_id","connection") WHERE "tool_credentials"."principal_id" is null;