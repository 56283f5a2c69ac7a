export function guardDebugCalls(text: string): { text: string; guarded: number };
export const guardDebugPlugin: { name: string; setup(build: unknown): void };
