// A tiny client of the compliance decision service (`python -m compliance serve`).
// No dependencies: Node's built-in fetch (Node 18+) keeps connections alive.

export interface DecideRequest {
  feature: string;
  category: string;
  route: string;
  as_of?: string; // YYYY-MM-DD, default today
}

export interface Decision {
  feature: string;
  category: string;
  route: string;
  as_of: string;
  decision: "allow" | "deny";
  rules: string[];
  reasons: string[];
  waived_by: string[];
  unknown_facts: string[];
  failed_conditions: Record<string, unknown>[];
  policy_digest: string;
  store_head: string;
}

export interface ServiceError {
  error: string;
  message: string;
  field: string | null;
  closest: string[];
}

export class GuardError extends Error {
  constructor(public status: number, public body: ServiceError) {
    super(`HTTP ${status}: ${body.message}`);
  }
}

export class Denied extends Error {
  constructor(public decision: Decision) {
    super(`${decision.feature} may not send ${decision.category} through ${decision.route} ` +
          `(${decision.rules.join(", ") || "default deny"}): ${decision.reasons.join("; ")}`);
  }
}

export class Guard {
  constructor(private baseUrl: string, private token?: string) {}

  private async post<T>(path: string, body: unknown): Promise<T> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.token) headers["authorization"] = `Bearer ${this.token}`;
    const response = await fetch(this.baseUrl + path, { method: "POST", headers, body: JSON.stringify(body) });
    const answer = await response.json();
    if (!response.ok) throw new GuardError(response.status, answer as ServiceError);
    return answer as T;
  }

  decide(request: DecideRequest): Promise<Decision> {
    return this.post<Decision>("/v1/decide", request);
  }

  async decideBatch(requests: DecideRequest[]): Promise<Decision[]> {
    return (await this.post<{ decisions: Decision[] }>("/v1/decide/batch", { requests })).decisions;
  }

  /** Resolve with the allow decision, or reject with Denied: call it right before sending data to an LLM. */
  async require(request: DecideRequest): Promise<Decision> {
    const decision = await this.decide(request);
    if (decision.decision !== "allow") throw new Denied(decision);
    return decision;
  }
}
