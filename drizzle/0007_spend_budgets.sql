CREATE TABLE "budget_counters" (
	"workspace_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"period" text NOT NULL,
	"spent_tokens" bigint DEFAULT 0 NOT NULL,
	"spent_micro_usd" bigint DEFAULT 0 NOT NULL,
	"warned_tokens_at" timestamp with time zone,
	"warned_usd_at" timestamp with time zone,
	CONSTRAINT "budget_counters_workspace_id_subject_period_pk" PRIMARY KEY("workspace_id","subject","period")
);
--> statement-breakpoint
CREATE TABLE "budget_reservations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"principal_id" uuid NOT NULL,
	"day" text NOT NULL,
	"month" text NOT NULL,
	"tokens" bigint NOT NULL,
	"micro_usd" bigint NOT NULL,
	"lease_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "usage" ADD COLUMN "channel" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage" DROP CONSTRAINT "usage_workspace_id_principal_id_day_model_pk";--> statement-breakpoint
ALTER TABLE "usage" ADD CONSTRAINT "usage_workspace_id_principal_id_day_model_channel_pk" PRIMARY KEY("workspace_id","principal_id","day","model","channel");--> statement-breakpoint
ALTER TABLE "workspace_settings" ADD COLUMN "tpm" integer;--> statement-breakpoint
ALTER TABLE "workspace_settings" ADD COLUMN "monthly_tokens" bigint;--> statement-breakpoint
ALTER TABLE "workspace_settings" ADD COLUMN "daily_micro_usd" bigint;--> statement-breakpoint
ALTER TABLE "workspace_settings" ADD COLUMN "monthly_micro_usd" bigint;--> statement-breakpoint
ALTER TABLE "workspace_settings" ADD COLUMN "user_daily_tokens" bigint;--> statement-breakpoint
ALTER TABLE "workspace_settings" ADD COLUMN "user_monthly_tokens" bigint;--> statement-breakpoint
ALTER TABLE "workspace_settings" ADD COLUMN "user_daily_micro_usd" bigint;--> statement-breakpoint
ALTER TABLE "workspace_settings" ADD COLUMN "user_monthly_micro_usd" bigint;--> statement-breakpoint
ALTER TABLE "budget_counters" ADD CONSTRAINT "budget_counters_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "budget_reservations" ADD CONSTRAINT "budget_reservations_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "budget_reservations_lease" ON "budget_reservations" USING btree ("workspace_id","lease_until");--> statement-breakpoint
-- Spend already counted today (budget_days) carries over as the workspace's spend of the day.
INSERT INTO "budget_counters" ("workspace_id", "subject", "period", "spent_tokens", "warned_tokens_at")
  SELECT "workspace_id", '', "day"::text, "spent_tokens", "warned_at" FROM "budget_days" WHERE "day" = current_date
  ON CONFLICT DO NOTHING;
