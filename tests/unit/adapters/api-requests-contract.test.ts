import { InMemoryIdempotencyRecords, InMemoryOrderIdClaims } from '../../../src/adapters/memory/in-memory-api-requests';
import { describeApiRequestsContract } from '../../contract/api-requests.contract';

describeApiRequestsContract('InMemoryOrderIdClaims and InMemoryIdempotencyRecords', async () => ({
  claims: new InMemoryOrderIdClaims(),
  idempotency: new InMemoryIdempotencyRecords(),
}));
