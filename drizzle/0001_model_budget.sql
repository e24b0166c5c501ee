CREATE TABLE "budget_days" (
	"workspace_id" uuid NOT NULL,
	"day" date NOT NULL,
	"spent_tokens" bigint DEFAULT 0 NOT NULL,
	"warned_at" timestamp with time zone,
	CONSTRAINT "budget_days_workspace_id_day_pk" PRIMARY KEY("workspace_id","day")
);
--> statement-breakpoint
ALTER TABLE "budget_days" ADD CONSTRAINT "budget_days_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;