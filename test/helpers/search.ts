import { Indexer } from '../../src/search/extract';
import { loadSearchParameters, type SearchParameters } from '../../src/search/parameters';
import { PROFILES_DIR } from '../../src/main';

let params: SearchParameters | undefined;
let indexer: Indexer | undefined;

/** Loaded once per test run: the definitions take ~0.5 s to read. */
export function testSearchParameters(): SearchParameters {
  params ??= loadSearchParameters([PROFILES_DIR]);
  return params;
}

export function testIndex(): Indexer {
  indexer ??= new Indexer(testSearchParameters());
  return indexer;
}
