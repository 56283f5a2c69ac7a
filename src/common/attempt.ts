/**
 * Runs `run` and says whether it completed, swallowing what it threw: for the steps of a rollback, where one step
 * that fails must not stop the others and the caller reports what is left undone from the result.
 */
export function attempt(run: () => void): boolean {
  try {
    run();
    return true;
  } catch {
    return false;
  }
}
