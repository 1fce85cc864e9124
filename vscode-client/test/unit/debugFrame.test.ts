import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DebugRequester,
  FRAME_SNAPSHOT_EXPRESSION,
  FrameGraphError,
  MISSING_TENSORVIEWS_MESSAGE,
  frameGraph,
  topFrameId,
} from '../../src/graph/debugFrame';
import { runPython } from './fixtures';

/**
 * A debug adapter stand-in that answers `evaluate` the way debugpy does for the clipboard
 * context: the repr() of the value, computed by real Python in a real function frame.
 */
class PythonFrameAdapter implements DebugRequester {
  readonly requests: Array<[string, unknown]> = [];
  constructor(
    private readonly frameSetup: string,
    /** Python flags: `-I -S` is a Python that cannot import the project. */
    private readonly flags: string[] = [],
  ) {}

  async customRequest(command: string, args?: unknown): Promise<unknown> {
    this.requests.push([command, args]);
    if (command === 'threads') return { threads: [{ id: 1, name: 'MainThread' }, { id: 7, name: 'worker' }] };
    if (command === 'stackTrace') {
      const { threadId } = args as { threadId: number };
      if (threadId === 1) throw new Error('thread is running');
      return { stackFrames: [{ id: 1000 + threadId, name: 'train_step' }], totalFrames: 3 };
    }
    if (command === 'evaluate') {
      const { expression } = args as { expression: string };
      const code = [
        'import sys',
        'def frame():',
        ...this.frameSetup.split('\n').map((line) => `    ${line}`),
        `    return repr(eval(sys.stdin.read()))`,
        'print(frame())',
      ].join('\n');
      try {
        return { result: runPython(code, expression, this.flags).trimEnd(), variablesReference: 0 };
      } catch (error) {
        throw new Error(String((error as { stderr?: string }).stderr ?? error));
      }
    }
    throw new Error(`unexpected request ${command}`);
  }
}

describe('storage graph of a paused frame', () => {
  it('finds the top frame of the first thread that has one', async () => {
    const adapter = new PythonFrameAdapter('pass');
    assert.equal(await topFrameId(adapter), 1007);
    assert.equal(await topFrameId(adapter, 7), 1007);
    assert.deepEqual(adapter.requests[1], ['stackTrace', { threadId: 1, startFrame: 0, levels: 1 }]);
  });

  it('evaluates tensorviews.view_json(locals()) in the frame and decodes the repr', async () => {
    const adapter = new PythonFrameAdapter(
      ['import torch', 'a = torch.rand(2, 2)', 'b = torch.rand(2, 2)', "weird = {'it\\'s \"x\" <img src=x onerror=alert(1)>': a[0]}", 'row = a[0]'].join('\n'),
    );
    const graph = await frameGraph(adapter, 1007);
    const evaluate = adapter.requests.find(([c]) => c === 'evaluate')!;
    assert.deepEqual(evaluate[1], { expression: FRAME_SNAPSHOT_EXPRESSION, frameId: 1007, context: 'clipboard' });
    const names = graph.tensors.flatMap((t) => t.names).sort();
    assert.deepEqual(names, ['a', 'b', 'row', `weird['it\\'s "x" <img src=x onerror=alert(1)>']`]);
    const a = graph.tensors.find((t) => t.names.includes('a'))!;
    const row = graph.tensors.find((t) => t.names.includes('row'))!;
    assert.ok(graph.overlaps.some((e) => (e.a === a.id && e.b === row.id) || (e.a === row.id && e.b === a.id)));
    assert.match(graph.dot ?? '', /^digraph tensorviews/, 'the drawing the cores made comes with it');
  });

  it('gets the capped view with its notes: a small view pinning a big storage', async () => {
    const adapter = new PythonFrameAdapter(
      ['import torch', 'acts = torch.zeros(1024, 4096)', 'h = acts[:, -1]', 'del acts', 'many = [torch.zeros(1) for _ in range(400)]'].join('\n'),
    );
    const graph = await frameGraph(adapter, 1);
    assert.ok(graph.notes.some((n) => /^h \(4\.0 KiB\) keeps its storage \(16\.0 MiB\) alive/.test(n)), JSON.stringify(graph.notes));
    assert.deepEqual(graph.marks.map((m) => m.why), ['pinned by small views']);
    // 401 tensors: the view draws the interesting part, not all of them.
    assert.ok(graph.tensors.length < 401, `${graph.tensors.length} tensors drawn`);
    assert.ok(graph.notes.some((n) => /not drawn/.test(n)), JSON.stringify(graph.notes));
  });

  it('explains a debuggee without Tensor Views, and a non-graph answer', async () => {
    // A real Python that cannot import the project (isolated mode, no site-packages).
    const bare = new PythonFrameAdapter('pass', ['-I', '-S']);
    await assert.rejects(frameGraph(bare, 1), (e: Error) => e instanceof FrameGraphError && e.message === MISSING_TENSORVIEWS_MESSAGE);
    assert.match(MISSING_TENSORVIEWS_MESSAGE, /pip install tensorviews/);
    const answered: DebugRequester = { customRequest: async () => ({ result: "ModuleNotFoundError: No module named 'tensorviews'" }) };
    await assert.rejects(frameGraph(answered, 1), (e: Error) => e.message === MISSING_TENSORVIEWS_MESSAGE);
    const odd: DebugRequester = { customRequest: async () => ({ result: "'not json'" }) };
    await assert.rejects(frameGraph(odd, 1), /not a storage graph/);
    const none: DebugRequester = { customRequest: async () => ({ threads: [] }) };
    await assert.rejects(topFrameId(none), /No paused frame/);
  });
});
