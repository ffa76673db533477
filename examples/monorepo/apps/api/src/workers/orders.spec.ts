// A test next to the workers: discovery must ignore it.
describe('orders worker', () => {
  it('boots', () => expect(true).toBe(true));
});
