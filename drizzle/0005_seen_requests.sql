CREATE TABLE "seen_requests" (
	"key" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "seen_requests_expires" ON "seen_requests" USING btree ("expires_at");