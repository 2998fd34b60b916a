import { isIPv6 } from "node:net";
import { AuthError } from "./errors.js";

export interface LoginRateLimitOptions {
  /** Failed logins an address may make before it has to wait. */
  burst: number;
  /** One more allowed failure comes back after this many seconds without failing. */
  refillSeconds: number;
  /** The first wait once the burst is used up; it doubles with every further failure. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  /** Addresses remembered at most; the longest-quiet are forgotten first. */
  maxTracked: number;
}

export const DEFAULT_LOGIN_RATE_LIMIT: LoginRateLimitOptions = {
  burst: 5,
  refillSeconds: 60,
  firstDelaySeconds: 1,
  maxDelaySeconds: 900,
  maxTracked: 10_000,
};

interface AddressState {
  allowance: number;
  updatedAt: number;
  /** Failures since the allowance ran out; each doubles the wait. */
  excess: number;
  blockedUntil: number;
}

function limited(retryAfter: number): AuthError {
  return new AuthError(
    "rate-limited",
    `too many failed logins from this address; try again in ${retryAfter} s`,
    { retryAfterSeconds: retryAfter },
  );
}

/**
 * Failed logins per source address: a token bucket of `burst` failures that refills slowly; once
 * empty, every failure blocks the address for an exponentially growing time. Attempts still
 * running count against the bucket, so parallel guesses can't slip past it. Times in seconds.
 */
export class LoginRateLimiter {
  readonly #options: LoginRateLimitOptions;
  readonly #states = new Map<string, AddressState>();
  readonly #running = new Map<string, number>();

  constructor(options: Partial<LoginRateLimitOptions> = {}) {
    this.#options = { ...DEFAULT_LOGIN_RATE_LIMIT, ...options };
  }

  /** Throws a 429 error while the address is blocked. */
  check(address: string, nowSeconds: number): void {
    const state = this.#states.get(rateLimitKey(address));
    if (state === undefined || nowSeconds >= state.blockedUntil) return;
    throw limited(Math.ceil(state.blockedUntil - nowSeconds));
  }

  /**
   * Starts a login attempt: 429 while blocked, or when as many attempts are already running as
   * failures are left (at least one may always run). Pair with `release`.
   */
  acquire(address: string, nowSeconds: number): void {
    this.check(address, nowSeconds);
    const key = rateLimitKey(address);
    const state = this.#states.get(key);
    const left =
      state === undefined ? this.#options.burst : this.#refilled(state, nowSeconds).allowance;
    const running = this.#running.get(key) ?? 0;
    if (running >= Math.max(1, Math.floor(left))) throw limited(1);
    this.#running.set(key, running + 1);
  }

  /** Ends an attempt started with `acquire` (record a failure separately). */
  release(address: string): void {
    const key = rateLimitKey(address);
    const running = (this.#running.get(key) ?? 1) - 1;
    if (running > 0) this.#running.set(key, running);
    else this.#running.delete(key);
  }

  recordFailure(address: string, nowSeconds: number): void {
    const key = rateLimitKey(address);
    const state = this.#refilled(this.#states.get(key), nowSeconds);
    state.allowance = Math.max(0, state.allowance - 1);
    if (state.allowance < 1) {
      state.excess += 1;
      const delay = this.#options.firstDelaySeconds * 2 ** (state.excess - 1);
      state.blockedUntil = nowSeconds + Math.min(delay, this.#options.maxDelaySeconds);
    }
    this.#states.delete(key); // re-insert so the map stays ordered by last failure
    this.#states.set(key, state);
    this.#forgetOldest();
  }

  /** Number of addresses currently remembered. */
  get tracked(): number {
    return this.#states.size;
  }

  #refilled(state: AddressState | undefined, now: number): AddressState {
    const { burst, refillSeconds } = this.#options;
    if (state === undefined)
      return { allowance: burst, updatedAt: now, excess: 0, blockedUntil: 0 };
    const allowance = Math.min(burst, state.allowance + (now - state.updatedAt) / refillSeconds);
    const rested = allowance >= burst;
    return {
      allowance,
      updatedAt: now,
      excess: rested ? 0 : state.excess,
      blockedUntil: state.blockedUntil,
    };
  }

  #forgetOldest(): void {
    for (const key of this.#states.keys()) {
      if (this.#states.size <= this.#options.maxTracked) return;
      this.#states.delete(key);
    }
  }
}

/** IPv4-mapped IPv6 as plain IPv4; other IPv6 addresses by their /64, which one host usually owns. */
export function rateLimitKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = Array(Math.max(0, 8 - left.length - right.length)).fill("0");
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group, 16).toString(16));
}
