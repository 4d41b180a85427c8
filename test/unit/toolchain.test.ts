describe('toolchain', () => {
  it('runs the tests on Node.js 22', () => {
    expect(process.versions.node.split('.')[0]).toBe('22');
  });
});
