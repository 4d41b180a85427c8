import { configFromYaml, manyExportsYaml, synthStack } from './stackFactory.js';
it('counts', async () => {
  for (const n of [1, 2]) {
    const { template } = synthStack(await configFromYaml(manyExportsYaml(n)), { alarmEmail: 'a@b.co' });
    const res = template.toJSON().Resources as Record<string, { Type: string }>;
    const byType: Record<string, number> = {};
    for (const r of Object.values(res)) byType[r.Type] = (byType[r.Type] ?? 0) + 1;
    console.log(n, Object.keys(res).length, JSON.stringify(byType), JSON.stringify(template.toJSON()).length);
    if (n === 2) console.log(Object.keys(res).join('\n'));
  }
  expect(1).toBe(1);
});
