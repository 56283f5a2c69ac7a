import { z } from 'zod';
import { ConfigSchema } from './config-schema.js';

/**
 * The JSON Schema of a configuration file, for editors (YAML language server:
 * `# yaml-language-server: $schema=./trunkgate.schema.json`). Every section is optional, so it fits each
 * file of a split configuration; the references between files are checked by `trunkgate config check`.
 */
export function exportJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://trunkgate.dev/schema/trunkgate.schema.json',
    title: 'trunkgate configuration (profiles/*.yaml)',
  };
}
