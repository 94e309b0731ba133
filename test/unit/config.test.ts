import { strict as assert } from 'node:assert';
import { helpText, loadConfig, NATIONAL_PROFILES, SETTINGS, wantsHelp } from '../../src/config';

describe('config', () => {
  it('defaults match the README', () => {
    const c = loadConfig({}, []);
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.dataDir, './data');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.maxBodyBytes, 16 * 1024 * 1024);
    assert.equal(c.maxJsonDepth, 64);
    assert.equal(c.baseUrl, undefined);
    assert.equal(c.sqliteSynchronous, 'NORMAL');
  });

  it('environment variables, overridden by flags in both spellings', () => {
    const c = loadConfig({ PORT: '9000', DATA_DIR: '/srv/fhir', MAX_BODY_SIZE: '2mb', LOG_LEVEL: 'WARN' },
      ['--port=9100', '--host', '0.0.0.0', '--base-url', 'https://fhir.example.in/fhir/']);
    assert.equal(c.port, 9100);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.dataDir, '/srv/fhir');
    assert.equal(c.maxBodyBytes, 2 * 1024 * 1024);
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.baseUrl, 'https://fhir.example.in/fhir');
  });

  it('bad values fail loudly with the setting name', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }, []), /PORT/);
    assert.throws(() => loadConfig({ PORT: '70000' }, []), /PORT/);
    assert.throws(() => loadConfig({ LOG_LEVEL: 'chatty' }, []), /LOG_LEVEL/);
    assert.throws(() => loadConfig({ MAX_BODY_SIZE: 'huge' }, []), /MAX_BODY_SIZE/);
    assert.throws(() => loadConfig({ BASE_URL: 'ftp://x' }, []), /BASE_URL/);
    assert.throws(() => loadConfig({}, ['--colour', 'red']), /unknown flag/);
    assert.throws(() => loadConfig({}, ['--port']), /needs a value/);
    assert.throws(() => loadConfig({ DEFAULT_PAGE_SIZE: '500', MAX_PAGE_SIZE: '100' }, []), /DEFAULT_PAGE_SIZE/);
  });

  it('implementation guides, required profiles and authentication settings', () => {
    assert.deepEqual(loadConfig({}, ['--ig', 'a', '--ig', 'b.tgz']).igDirs, ['a', 'b.tgz']);
    assert.deepEqual(loadConfig({ IG_DIRS: 'x,y' }, []).igDirs, ['x', 'y']);
    assert.deepEqual(loadConfig({ REQUIRED_PROFILES: 'national' }, []).requiredProfiles, NATIONAL_PROFILES);
    assert.deepEqual(loadConfig({ REQUIRED_PROFILES: 'Patient=https://a|https://b,Bundle#document=https://c' }, []).requiredProfiles,
      { Patient: ['https://a', 'https://b'], 'Bundle#document': ['https://c'] });
    assert.throws(() => loadConfig({ REQUIRED_PROFILES: 'patient=x' }, []), /REQUIRED_PROFILES entries/);
    assert.throws(() => loadConfig({ JWKS_FILE: 'k.json' }, []), /AUTH_ISSUER and AUTH_AUDIENCE are required/);
    assert.throws(() => loadConfig({ JWKS_FILE: 'k.json', JWKS_URL: 'https://x', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }, []), /not both/);
  });

  it('the store: SQLite by default; MongoDB needs a connection string', () => {
    assert.equal(loadConfig({}, []).store, 'sqlite');
    const c = loadConfig({ STORE: 'mongodb', MONGO_URL: 'mongodb://a:27017,b:27017/fhir?replicaSet=rs0' }, []);
    assert.equal(c.store, 'mongodb');
    assert.equal(c.mongoUrl, 'mongodb://a:27017,b:27017/fhir?replicaSet=rs0');
    assert.equal(loadConfig({}, ['--store', 'mongodb', '--mongo-url', 'mongodb+srv://cluster.example.in/fhir']).mongoUrl, 'mongodb+srv://cluster.example.in/fhir');
    assert.throws(() => loadConfig({ STORE: 'mongodb' }, []), /STORE=mongodb needs MONGO_URL/);
    assert.throws(() => loadConfig({ STORE: 'postgres' }, []), /STORE must be one of sqlite, mongodb/);
    assert.throws(() => loadConfig({ STORE: 'mongodb', MONGO_URL: 'http://db:27017' }, []), /MONGO_URL must be a MongoDB connection string/);
  });

  it('--help and -h anywhere ask for help; the help names every setting with its flag, default and meaning', () => {
    assert.ok(wantsHelp(['--help']));
    assert.ok(wantsHelp(['--port', '9000', '-h']));
    assert.ok(!wantsHelp(['--port', '9000']));
    const help = helpText().split('\n');
    for (const s of Object.values(SETTINGS)) {
      assert.ok(s.about.length > 0 && !s.about.includes('\n'), `${s.env} has a one-line meaning`);
      const row = help.find((line) => line.trim().startsWith(`${s.env} `));
      assert.ok(row?.includes(s.flag) && row.includes(s.about) && row.includes(s.default || '-'), `${s.env}: ${row}`);
    }
  });

  it('a malformed URL names its setting instead of a bare "Invalid URL"', () => {
    assert.throws(() => loadConfig({ BASE_URL: 'not a url' }, []), /BASE_URL must be an http\(s\) URL, got 'not a url'/);
    assert.throws(() => loadConfig({ JWKS_URL: '::', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }, []), /JWKS_URL must be an http\(s\) URL/);
  });

  it('the ABDM exchange is off by default, and on only with a gateway, credentials, a role and a callback URL', () => {
    const off = loadConfig({}, []).abdm;
    assert.equal(off.gatewayUrl, undefined);
    assert.deepEqual([off.cmId, off.pushPageSize], ['sbx', 7]);
    const env = { ABDM_GATEWAY_URL: 'https://dev.abdm.gov.in/gateway', ABDM_CLIENT_ID: 'c', ABDM_CLIENT_SECRET: 's', ABDM_HIP_ID: 'IN1', ABDM_CALLBACK_URL: 'https://h.example.in/abdm' };
    const on = loadConfig(env, []).abdm;
    assert.equal(on.hipId, 'IN1');
    assert.equal(on.hiuId, undefined);
    assert.throws(() => loadConfig({ ...env, ABDM_CLIENT_SECRET: undefined }, []), /ABDM_CLIENT_ID and ABDM_CLIENT_SECRET/);
    assert.throws(() => loadConfig({ ...env, ABDM_HIP_ID: undefined }, []), /needs a role/);
    assert.throws(() => loadConfig({ ...env, ABDM_CALLBACK_URL: undefined }, []), /ABDM_CALLBACK_URL/);
    assert.throws(() => loadConfig({ ABDM_HIP_ID: 'IN1' }, []), /need ABDM_GATEWAY_URL/);
    assert.throws(() => loadConfig({ ...env, ABDM_PUSH_PAGE_SIZE: '0' }, []), /ABDM_PUSH_PAGE_SIZE/);
  });
});
