import { isPublicAddress, privateLiteralHost, publicOnlyLookup } from '../../server/webhooks/target-guard';

/** Which webhook destinations are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS (server/webhooks/target-guard.ts). */
describe('webhook targets: private and reserved addresses', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1'])(
    'When the address is %s, then it is not public',
    (ip) => expect(isPublicAddress(ip)).toBe(false),
  );

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('When the address is %s, then it is public', (ip) => expect(isPublicAddress(ip)).toBe(true));

  it('When a URL names a private literal or localhost, then that host is reported; a name or a public literal is not', () => {
    expect(privateLiteralHost('http://127.0.0.1:8080/hook')).toBe('127.0.0.1');
    expect(privateLiteralHost('http://[::1]/hook')).toBe('::1');
    expect(privateLiteralHost('http://localhost/hook')).toBe('localhost');
    expect(privateLiteralHost('https://api.localhost/hook')).toBe('api.localhost');
    expect(privateLiteralHost('https://hooks.example.com/x')).toBeUndefined();
    expect(privateLiteralHost('https://93.184.215.14/x')).toBeUndefined();
  });

  it('When a name resolves to a private address, then the connection lookup fails with EPRIVATETARGET', async () => {
    // localhost resolves from /etc/hosts, with no DNS server: 127.0.0.1 (and ::1).
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => publicOnlyLookup('localhost', {}, (e) => resolve(e)));
    expect(err?.code).toBe('EPRIVATETARGET');
    expect(err?.message).toMatch(/localhost resolves to/);
  });
});
