import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DebugRequester, FRAME_SNAPSHOT_EXPRESSION, FrameGraphError, frameGraph, topFrameId } from '../../src/graph/debugFrame';
import { runPython } from './fixtures';

/**
 * A debug adapter stand-in that answers `evaluate` the way debugpy does for the clipboard
 * context: the repr() of the value, computed by real Python in a real function frame.
 */
class PythonFrameAdapter implements DebugRequester {
  readonly requests: Array<[string, unknown]> = [];
  constructor(private readonly frameSetup: string) {}

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
        return { result: runPython(code, expression).trimEnd(), variablesReference: 0 };
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

  it('evaluates kernel_ext.snapshot(locals()) in the frame and decodes the repr', async () => {
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
  });

  it('explains a debuggee without Tensor Views, and a non-graph answer', async () => {
    const missing: DebugRequester = {
      customRequest: async () => {
        throw new Error("Traceback ...\nModuleNotFoundError: No module named 'kernel_ext'");
      },
    };
    await assert.rejects(frameGraph(missing, 1), (e: Error) => e instanceof FrameGraphError && /pip install 'tensorviews\[kernel\]'/.test(e.message));
    const odd: DebugRequester = { customRequest: async () => ({ result: "'not json'" }) };
    await assert.rejects(frameGraph(odd, 1), /not a storage graph/);
    const none: DebugRequester = { customRequest: async () => ({ threads: [] }) };
    await assert.rejects(topFrameId(none), /No paused frame/);
  });
});
