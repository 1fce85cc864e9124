import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEvaluateResult, parsePythonStringLiteral, PythonReprError } from '../../src/graph/pythonRepr';
import { runPython } from './fixtures';

describe('parsePythonStringLiteral', () => {
  it('decodes what real Python repr() produces, for every kind of character', () => {
    const cases = [
      '', 'plain', "it's", 'say "hi"', `both ' and "`, 'back\\slash', 'tab\tnew\nline\rcr',
      'bell\x07 nul\x00 del\x7f esc\x1b', 'é ü 中文 😀', '\u2028 \ud7ff \ufeff', '{"schema": "tensorviews.graph/1", "a": "\\u00e9"}',
    ];
    const reprs = JSON.parse(runPython('import json, sys; print(json.dumps([repr(s) for s in json.load(sys.stdin)]))', JSON.stringify(cases))) as string[];
    reprs.forEach((literal, i) => assert.equal(parsePythonStringLiteral(literal), cases[i], literal));
  });

  it('rejects what is not one quoted string', () => {
    for (const bad of ['abc', "'abc", "'a'b'", "b'abc'", "'\\x4'", "'\\"]) {
      assert.throws(() => parsePythonStringLiteral(bad), PythonReprError, bad);
    }
  });

  it('evaluate results: reprs are decoded, bare text is taken as is', () => {
    assert.equal(decodeEvaluateResult(`'{"a": 1}'`), '{"a": 1}');
    assert.equal(decodeEvaluateResult('{"a": 1}'), '{"a": 1}');
    assert.equal(decodeEvaluateResult(`  "it's"\n`), "it's");
  });
});
