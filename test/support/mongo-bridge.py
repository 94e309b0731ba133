"""A MongoDB wire-protocol server for tests, answering from mongomock's in-memory query engine.

MockupDB speaks the wire protocol (OP_MSG) and hands each command to `handle`, which runs it
on mongomock and replies as a MongoDB 7 server would. It is a test engine, not a database: no
transactions, no sessions, no durability. It serves one process's test run on 127.0.0.1 and
prints `listening <port>` once ready; it exits when its standard input closes.

Run it with Debian's /usr/bin/python3 (packages python3-mockupdb and python3-mongomock).
"""
import datetime
import itertools
import sys
import threading

import bson
import mockupdb
import mongomock

MAX_WIRE_VERSION = 21  # MongoDB 7.0
DEFAULT_BATCH = 101

client = mongomock.MongoClient()
cursors = {}
cursor_ids = itertools.count(1)
connection_ids = itertools.count(1)


def hello(_doc):
    return {
        'ok': 1, 'helloOk': True, 'ismaster': True, 'isWritablePrimary': True,
        'minWireVersion': 0, 'maxWireVersion': MAX_WIRE_VERSION,
        'maxBsonObjectSize': 16 * 1024 * 1024, 'maxMessageSizeBytes': 48000000, 'maxWriteBatchSize': 100000,
        'localTime': datetime.datetime.now(datetime.timezone.utc), 'connectionId': next(connection_ids),
        # No setName and no logicalSessionTimeoutMinutes: a standalone without sessions, which
        # is what this engine is (it cannot run transactions).
    }


def batch(namespace, docs, size, first):
    """The first or next batch of a result; the rest waits under a cursor id for getMore."""
    size = size or (DEFAULT_BATCH if first else len(docs))
    head, rest = docs[:size], docs[size:]
    cursor_id = 0
    if rest:
        cursor_id = next(cursor_ids)
        cursors[cursor_id] = (namespace, rest)
    key = 'firstBatch' if first else 'nextBatch'
    # The driver reads cursor ids as 64-bit integers only.
    return {'ok': 1, 'cursor': {'id': bson.int64.Int64(cursor_id), 'ns': namespace, key: head}}


def find(db, doc):
    coll = db[doc['find']]
    cursor = coll.find(doc.get('filter') or {}, doc.get('projection') or None)
    if doc.get('sort'):
        cursor = cursor.sort(list(doc['sort'].items()))
    if doc.get('skip'):
        cursor = cursor.skip(int(doc['skip']))
    if doc.get('limit'):
        cursor = cursor.limit(abs(int(doc['limit'])))
    docs = list(cursor)
    size = int(doc.get('batchSize') or 0)
    if doc.get('singleBatch'):
        size = len(docs)
    return batch('%s.%s' % (db.name, doc['find']), docs, size, True)


def get_more(_db, doc):
    namespace, docs = cursors.pop(int(doc['getMore']), (None, None))
    if namespace is None:
        return {'ok': 0, 'code': 43, 'codeName': 'CursorNotFound', 'errmsg': 'cursor %d not found' % doc['getMore']}
    return batch(namespace, docs, int(doc.get('batchSize') or 0), False)


def kill_cursors(_db, doc):
    for cursor_id in doc.get('cursors', []):
        cursors.pop(int(cursor_id), None)
    return {'ok': 1, 'cursorsKilled': doc.get('cursors', [])}


def write_error(index, err):
    code = 11000 if isinstance(err, mongomock.DuplicateKeyError) else getattr(err, 'code', None) or 2
    return {'index': index, 'code': code, 'errmsg': str(err)}


def insert(db, doc):
    coll = db[doc['insert']]
    n, errors = 0, []
    for i, d in enumerate(doc.get('documents', [])):
        try:
            coll.insert_one(d)
            n += 1
        except mongomock.OperationFailure as err:
            errors.append(write_error(i, err))
            if doc.get('ordered', True):
                break
    reply = {'ok': 1, 'n': n}
    if errors:
        reply['writeErrors'] = errors
    return reply


def update(db, doc):
    coll = db[doc['update']]
    n, modified, upserted, errors = 0, 0, [], []
    for i, u in enumerate(doc.get('updates', [])):
        spec, upsert = u['u'], bool(u.get('upsert'))
        try:
            if isinstance(spec, dict) and not any(k.startswith('$') for k in spec):
                result = coll.replace_one(u['q'], spec, upsert=upsert)
            elif u.get('multi'):
                result = coll.update_many(u['q'], spec, upsert=upsert, array_filters=u.get('arrayFilters'))
            else:
                result = coll.update_one(u['q'], spec, upsert=upsert, array_filters=u.get('arrayFilters'))
        except mongomock.OperationFailure as err:
            errors.append(write_error(i, err))
            if doc.get('ordered', True):
                break
            continue
        n += result.matched_count
        modified += result.modified_count
        if result.upserted_id is not None:
            n += 1
            upserted.append({'index': i, '_id': result.upserted_id})
    reply = {'ok': 1, 'n': n, 'nModified': modified}
    if upserted:
        reply['upserted'] = upserted
    if errors:
        reply['writeErrors'] = errors
    return reply


def delete(db, doc):
    coll = db[doc['delete']]
    n = 0
    for d in doc.get('deletes', []):
        result = coll.delete_one(d['q']) if d.get('limit') == 1 else coll.delete_many(d['q'])
        n += result.deleted_count
    return {'ok': 1, 'n': n}


def create_indexes(db, doc):
    coll = db[doc['createIndexes']]
    before = len(coll.index_information())
    for spec in doc.get('indexes', []):
        # Options mongomock cannot honour (partialFilterExpression) only narrow what an index
        # holds; uniqueness is kept, because the store relies on it.
        coll.create_index(list(spec['key'].items()), name=spec.get('name'), unique=bool(spec.get('unique')))
    return {'ok': 1, 'numIndexesBefore': before, 'numIndexesAfter': len(coll.index_information())}


def list_indexes(db, doc):
    coll = db[doc['listIndexes']]
    info = coll.index_information() if doc['listIndexes'] in db.list_collection_names() else {}
    docs = [{'v': 2, 'name': name, 'key': dict(spec['key']), **({'unique': True} if spec.get('unique') else {})}
            for name, spec in info.items()]
    return batch('%s.%s' % (db.name, doc['listIndexes']), docs, len(docs) or 1, True)


def aggregate(db, doc):
    docs = list(db[doc['aggregate']].aggregate(doc.get('pipeline', [])))
    size = int((doc.get('cursor') or {}).get('batchSize') or 0)
    return batch('%s.%s' % (db.name, doc['aggregate']), docs, size, True)


def count(db, doc):
    return {'ok': 1, 'n': db[doc['count']].count_documents(doc.get('query') or {})}


def drop(db, doc):
    db.drop_collection(doc['drop'])
    return {'ok': 1}


def drop_database(db, _doc):
    client.drop_database(db.name)
    return {'ok': 1}


def ok(_db, _doc):
    return {'ok': 1}


COMMANDS = {
    'hello': lambda _db, doc: hello(doc), 'ismaster': lambda _db, doc: hello(doc), 'isMaster': lambda _db, doc: hello(doc),
    'ping': ok, 'endSessions': ok, 'buildInfo': lambda _db, _doc: {'ok': 1, 'version': '7.0.0', 'versionArray': [7, 0, 0, 0]},
    'find': find, 'getMore': get_more, 'killCursors': kill_cursors, 'insert': insert, 'update': update,
    'delete': delete, 'createIndexes': create_indexes, 'listIndexes': list_indexes, 'aggregate': aggregate,
    'count': count, 'drop': drop, 'dropDatabase': drop_database,
}


def handle(request):
    doc = request.doc
    name = request.command_name
    command = COMMANDS.get(name)
    if command is None:
        return request.replies({'ok': 0, 'code': 59, 'codeName': 'CommandNotFound', 'errmsg': 'no such command: %s' % name})
    try:
        reply = command(client[doc.get('$db', 'test')], doc)
    except Exception as err:  # noqa: BLE001 - any engine failure goes back to the client as a command error, never a dropped connection
        reply = {'ok': 0, 'code': getattr(err, 'code', None) or 2, 'errmsg': '%s: %s' % (type(err).__name__, err)}
    return request.replies(reply)


def main():
    server = mockupdb.MockupDB(port=0, max_wire_version=MAX_WIRE_VERSION)
    server.autoresponds(handle)
    port = server.run()
    print('listening %d' % port, flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    server.stop()


if __name__ == '__main__':
    main()
