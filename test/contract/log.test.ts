import { JsonFragment, jsonLogger } from '../../contract/log';

describe('jsonLogger', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, logger: jsonLogger('svc', (l) => void lines.push(l)) };
  };

  it('writes one JSON line per call: level, timestamp, service, message, then the fields', () => {
    const { lines, logger } = capture();
    logger.info('decision', { kind: 'apiKey', latencyMs: 0.012, nested: { a: [1, 'two'] }, skipped: undefined });
    logger.error('boom');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.endsWith('}\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const first = JSON.parse(lines[0]!);
    expect(Object.keys(first)).toEqual(['level', 'timestamp', 'service', 'message', 'kind', 'latencyMs', 'nested']);
    expect(first).toMatchObject({ level: 'INFO', service: 'svc', message: 'decision', kind: 'apiKey', nested: { a: [1, 'two'] } });
    expect(new Date(first.timestamp).toISOString()).toBe(first.timestamp);
    expect(JSON.parse(lines[1]!)).toEqual({ level: 'ERROR', timestamp: expect.any(String), service: 'svc', message: 'boom' });
  });

  it('writes a JsonFragment as its JSON, and other serializers see its value', () => {
    const { lines, logger } = capture();
    const value = { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'Gatehouse' }] };
    const fragment = new JsonFragment(JSON.stringify(value), value);
    logger.info('decision', { _aws: fragment, reason: 'ALLOWED' });
    expect(JSON.parse(lines[0]!)).toMatchObject({ _aws: value, reason: 'ALLOWED' });
    expect(JSON.parse(JSON.stringify({ _aws: fragment }))).toEqual({ _aws: value });
  });

  it("never lets a field replace or repeat the line's own keys, and escapes what it writes", () => {
    const { lines, logger } = capture();
    logger.warn('real "message"', { level: 'DEBUG', message: 'forged', service: 'x', timestamp: 'y', note: 'a"b\nc' });
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'WARN', service: 'svc', message: 'real "message"', field_level: 'DEBUG', field_message: 'forged', note: 'a"b\nc' });
    expect(lines[0]!.match(/"level":/g)).toHaveLength(1);
  });
});
