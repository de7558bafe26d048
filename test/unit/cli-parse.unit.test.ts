// The parser every command shares (harness/cli/command.ts): strict flags, checked values, the
// closest valid name, --help text.
import { describe, expect, it } from 'vitest';
import {
  type CommandSpec,
  closest,
  editDistance,
  HelpRequested,
  helpText,
  parseCommand,
  UsageError,
} from '../../harness/cli/command.ts';
import { withoutFlag } from '../../harness/cli/values.ts';

const spec: CommandSpec = {
  invocation: 'npm run demo --',
  summary: 'A demo command.',
  usage: ['[--profile NAME] [--vus N] [--quick]'],
  options: {
    profile: {
      type: 'string',
      value: 'NAME',
      description: 'the profile',
      choices: ['default', 'short', 'smoke'],
    },
    vus: { type: 'string', value: 'N', description: 'VUs', number: { min: 1, max: 5000, integer: true } },
    faults: {
      type: 'string',
      value: 'a,b',
      description: 'bugs',
      choices: ['skip-inbox', 'no-purchase-unique'],
      list: true,
    },
    quick: { type: 'boolean', short: 'q', description: 'fast' },
  },
  positionals: { name: 'scenario', max: 1, description: 'one scenario' },
  examples: ['npm run demo -- --profile short'],
};

const usage = (argv: string[]) => {
  try {
    parseCommand(spec, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('parseCommand', () => {
  it('reads flags in both forms, booleans, shorts and positionals', () => {
    const p = parseCommand(spec, ['--profile=short', '--vus', '10', '-q', 'kill-worker']);
    expect(p.values).toMatchObject({ profile: 'short', vus: '10', quick: true });
    expect(p.positionals).toEqual(['kill-worker']);
  });

  it('refuses an unknown flag, naming the closest one', () => {
    expect(usage(['--profle', 'short'])).toBe('unknown flag --profle; did you mean --profile?');
    expect(usage(['--quik'])).toBe('unknown flag --quik; did you mean --quick?');
    expect(usage(['--zzzzzzzz'])).toMatch(/^unknown flag --zzzzzzzz; valid: --help, --profile, --vus/);
  });

  it('refuses values outside the choices, numbers out of range, values on switches, missing values', () => {
    expect(usage(['--profile', 'shrot'])).toBe('--profile shrot: no such value; did you mean short?');
    expect(usage(['--faults', 'skip-inbox,no-purchase-uniqe'])).toBe(
      '--faults no-purchase-uniqe: no such value; did you mean no-purchase-unique?',
    );
    expect(usage(['--vus', '0'])).toBe('--vus 0: expected an integer >= 1 <= 5000');
    expect(usage(['--vus', '2.5'])).toMatch(/^--vus 2.5: expected an integer/);
    expect(usage(['--vus', '1e3'])).toMatch(/^--vus 1e3: expected an integer/);
    expect(usage(['--quick=yes'])).toBe('--quick takes no value');
    expect(usage(['--profile'])).toBe('--profile needs a value (NAME)');
    expect(usage(['--profile='])).toBe('--profile needs a value (NAME)');
  });

  it('refuses extra positionals', () => {
    expect(usage(['a', 'b'])).toBe("unexpected argument 'b' (at most 1 scenario)");
  });

  it('--help wins, even after a mistake, and lists options, examples and exit codes', () => {
    expect(() => parseCommand(spec, ['--profle', '-h'])).toThrow(HelpRequested);
    const text = helpText(spec);
    expect(text).toContain('Usage:\n  npm run demo -- [--profile NAME] [--vus N] [--quick]');
    expect(text).toMatch(/--profile NAME +the profile \(default, short, smoke\)/);
    expect(text).toMatch(/-q, --quick +fast/);
    expect(text).toContain('Examples:\n  npm run demo -- --profile short');
    expect(text).toContain(
      'Exit codes: 0 PASS, 1 FAIL, 2 UNKNOWN, 64 usage error (nothing ran), 130 interrupted.',
    );
  });
});

describe('closest', () => {
  it('uses edit distance with transpositions, and prefixes', () => {
    expect(editDistance('profle', 'profile')).toBe(1);
    expect(editDistance('shrot', 'short')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closest('partiton-kafka', ['partition-kafka', 'partition-postgres'])).toBe('partition-kafka');
    expect(closest('dur', ['duration', 'vus'])).toBe('duration');
    expect(closest('xyz', ['duration', 'vus'])).toBeUndefined();
  });
});

describe('withoutFlag', () => {
  it('drops both forms of a flag (the replay command sets it again)', () => {
    expect(withoutFlag(['--profile', 'short', '--seed', '4', '--seed=5', '--vus', '3'], 'seed')).toEqual([
      '--profile',
      'short',
      '--vus',
      '3',
    ]);
  });
});
