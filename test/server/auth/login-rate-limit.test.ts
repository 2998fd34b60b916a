import test from "ava";
import { LoginRateLimiter, rateLimitKey } from "../../../appliance/server/auth/login-rate-limit.js";

const retryAfter = (limiter: LoginRateLimiter, address: string, now: number) => {
  try {
    limiter.check(address, now);
    return 0;
  } catch (err) {
    t429(err);
    return (err as { context: { retryAfterSeconds: number } }).context.retryAfterSeconds;
  }
};

function t429(err: unknown) {
  if ((err as { httpStatus?: number }).httpStatus !== 429) throw err;
}

test("five failures are free, then waits double with each further failure", (t) => {
  const limiter = new LoginRateLimiter();
  const now = 1000;
  for (let i = 0; i < 4; i++) {
    limiter.recordFailure("192.0.2.1", now);
    t.is(retryAfter(limiter, "192.0.2.1", now), 0, `after failure ${i + 1}`);
  }
  limiter.recordFailure("192.0.2.1", now);
  t.is(retryAfter(limiter, "192.0.2.1", now), 1);
  t.is(retryAfter(limiter, "192.0.2.2", now), 0, "other addresses are not affected");
  let at = now + 1;
  t.is(retryAfter(limiter, "192.0.2.1", at), 0, "the wait is over");
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    limiter.recordFailure("192.0.2.1", at);
    const wait = retryAfter(limiter, "192.0.2.1", at);
    waits.push(wait);
    at += wait;
  }
  t.deepEqual(waits, [2, 4, 8, 16, 32]);
});

test("the wait is capped and the allowance comes back after a quiet time", (t) => {
  const limiter = new LoginRateLimiter({ burst: 1, maxDelaySeconds: 10, refillSeconds: 60 });
  let at = 0;
  for (let i = 0; i < 8; i++) {
    limiter.recordFailure("a", at);
    at += 10;
  }
  t.is(retryAfter(limiter, "a", at - 10), 10);
  at += 60;
  limiter.recordFailure("a", at);
  t.is(retryAfter(limiter, "a", at), 1, "a rested address starts again at the first wait");
});

test("the 429 error says when to try again", (t) => {
  const limiter = new LoginRateLimiter({ burst: 1, firstDelaySeconds: 30 });
  limiter.recordFailure("a", 0);
  const err = t.throws(() => limiter.check("a", 10));
  t.is(err?.message, "too many failed logins from this address; try again in 20 s");
  t.is((err as unknown as { code: string }).code, "CAIRN_E_AUTH_RATE_LIMITED");
});

test("IPv4-mapped addresses count as IPv4 and IPv6 addresses by their /64", (t) => {
  t.is(rateLimitKey("::ffff:192.0.2.1"), "192.0.2.1");
  t.is(rateLimitKey("2001:db8:1:2::1"), rateLimitKey("2001:db8:1:2:ffff::9"));
  t.not(rateLimitKey("2001:db8:1:2::1"), rateLimitKey("2001:db8:1:3::1"));
  t.is(rateLimitKey("2001:db8::1"), "2001:db8:0:0::/64");
  const limiter = new LoginRateLimiter({ burst: 1 });
  limiter.recordFailure("2001:db8:1:2::1", 0);
  t.is(retryAfter(limiter, "2001:db8:1:2::77", 0), 1);
});

test("memory stays bounded by forgetting the longest-quiet addresses", (t) => {
  const limiter = new LoginRateLimiter({ maxTracked: 3, burst: 1 });
  for (const address of ["a", "b", "c", "d"]) limiter.recordFailure(address, 0);
  t.is(limiter.tracked, 3);
  t.is(retryAfter(limiter, "a", 0), 0, "a was forgotten");
  t.is(retryAfter(limiter, "d", 0), 1);
});

test("running attempts count against what is left, so parallel guesses are capped", (t) => {
  const limiter = new LoginRateLimiter({ burst: 2 });
  limiter.acquire("a", 0);
  limiter.acquire("a", 0);
  t.throws(() => limiter.acquire("a", 0), { message: /try again in 1 s/ });
  limiter.acquire("b", 0);
  limiter.release("a");
  limiter.recordFailure("a", 0);
  t.throws(() => limiter.acquire("a", 0), { message: /try again/ }, "one left, one running");
  limiter.release("a");
  limiter.acquire("a", 0);
});
