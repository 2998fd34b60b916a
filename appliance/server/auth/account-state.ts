/** Whether an account (user or token) may be used now: enabled and not past its expiry. */
export function isAccountActive(
  record: { enable: boolean; expire: number } | undefined,
  nowSeconds: number,
): boolean {
  return record?.enable === true && (record.expire === 0 || record.expire > nowSeconds);
}
