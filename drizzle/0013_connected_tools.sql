CREATE TABLE "connected_tool_rules" (
	"workspace_id" uuid NOT NULL,
	"channel_external_id" text NOT NULL,
	"pattern" text NOT NULL,
	"allowed" boolean NOT NULL,
	"guests" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "connected_tool_rules_workspace_id_channel_external_id_pattern_pk" PRIMARY KEY("workspace_id","channel_external_id","pattern")
);
--> statement-breakpoint
CREATE TABLE "connection_tools" (
	"connection_id" uuid NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"input_schema" jsonb NOT NULL,
	"read_only" boolean NOT NULL,
	CONSTRAINT "connection_tools_connection_id_name_pk" PRIMARY KEY("connection_id","name")
);
--> statement-breakpoint
CREATE TABLE "tool_connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"url" text,
	"auth" text NOT NULL,
	"source" text NOT NULL,
	"results_shared" boolean DEFAULT false NOT NULL,
	"refreshed_at" timestamp with time zone,
	"problem" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "connected_tool_rules" ADD CONSTRAINT "connected_tool_rules_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connection_tools" ADD CONSTRAINT "connection_tools_connection_id_tool_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."tool_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connection_tools" ADD CONSTRAINT "connection_tools_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tool_connections" ADD CONSTRAINT "tool_connections_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "connection_tools_workspace" ON "connection_tools" USING btree ("workspace_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tool_connections_workspace_name" ON "tool_connections" USING btree ("workspace_id","name");