import { FAULTS, type FaultName } from '@keybench/virtual-key';
import { describe, expect, it } from 'vitest';

import { CATALOGUE } from '../src/conformance/catalogue.js';
import { FAULT_EXPECTATIONS } from '../src/conformance/fault-map.js';
import { runConformance } from '../src/conformance/runner.js';

describe('conformance catches every fault the virtual key can inject', () => {
  it('maps every fault, with case ids that exist', () => {
    const mapped = FAULT_EXPECTATIONS.map((entry) => entry.fault.name).sort();
    expect(mapped).toEqual((Object.keys(FAULTS) as FaultName[]).sort());
    const ids = new Set(CATALOGUE.map((test) => test.id));
    for (const entry of FAULT_EXPECTATIONS) {
      for (const id of entry.mustFail) expect(ids.has(id), `${entry.fault.name}: ${id}`).toBe(true);
      // A fault with no catching case must say why none can.
      if (entry.mustFail.length === 0) expect(entry.undetectable).toBeTruthy();
    }
  });

  for (const entry of FAULT_EXPECTATIONS.filter((e) => e.mustFail.length > 0)) {
    it(`${entry.fault.name}: ${entry.mustFail.join(', ')} fail`, async () => {
      const report = await runConformance('virtual', {
        ids: [...(entry.after ?? []), ...entry.mustFail],
        virtual: { faults: [entry.fault] },
      });
      const failed = report.results.filter((r) => r.status === 'fail').map((r) => r.id);
      expect(failed.sort()).toEqual([...entry.mustFail].sort());
    });
  }

  it("the same cases pass without the fault (so the failures are the fault's doing)", async () => {
    const ids = [...new Set(FAULT_EXPECTATIONS.flatMap((entry) => entry.mustFail))];
    const report = await runConformance('virtual', { ids });
    expect(report.results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(report.results.map((r) => r.id).sort()).toEqual(ids.sort());
  });
});
