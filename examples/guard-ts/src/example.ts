// Usage: node dist/example.js http://127.0.0.1:8700 [TOKEN]
// Prints one JSON line per step, so a test (or a person) can read what happened.
import { Denied, Guard, GuardError } from "./guard.js";

declare const process: { argv: string[] }; // no @types/node needed for this one use

const [url = "http://127.0.0.1:8700", token] = process.argv.slice(2);
const guard = new Guard(url, token);

const allowed = await guard.require({
  feature: "support-reply-draft", category: "user.contact.email", route: "claude-bedrock-eu",
});
console.log(JSON.stringify({ step: "require", decision: allowed.decision, rules: allowed.rules,
                             policy_digest: allowed.policy_digest, store_head: allowed.store_head }));

try {
  await guard.require({ feature: "clinic-notes-summary", category: "user.health_and_medical",
                        route: "claude-direct", as_of: "2026-10-01" });
  console.log(JSON.stringify({ step: "denied", decision: "allow" }));
} catch (error) {
  if (!(error instanceof Denied)) throw error;
  console.log(JSON.stringify({ step: "denied", decision: error.decision.decision, rules: error.decision.rules }));
}

const batch = await guard.decideBatch([
  { feature: "support-reply-draft", category: "user.contact.email", route: "claude-bedrock-eu" },
  { feature: "support-reply-draft", category: "user.contact.email", route: "llama-api" },
]);
console.log(JSON.stringify({ step: "batch", decisions: batch.map((d) => d.decision) }));

try {
  await guard.decide({ feature: "support-reply-draft", category: "user.contact.email", route: "claude-bedrock-ue" });
} catch (error) {
  if (!(error instanceof GuardError)) throw error;
  console.log(JSON.stringify({ step: "unknown", status: error.status, closest: error.body.closest }));
}
