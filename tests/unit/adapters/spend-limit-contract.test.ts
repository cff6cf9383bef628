import { InMemorySpendLimit } from '../../../src/adapters/memory/in-memory-spend-limit';
import { describeSpendLimitContract } from '../../contract/spend-limit.contract';

describeSpendLimitContract('InMemorySpendLimit', async (settings) => ({ spendLimit: new InMemorySpendLimit(settings) }));
