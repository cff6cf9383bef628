import { InMemoryInventory } from '../../../src/adapters/memory/in-memory-inventory';
import { describeInventoryContract } from '../../contract/inventory.contract';

describeInventoryContract('InMemoryInventory', async () => ({ inventory: new InMemoryInventory() }));
