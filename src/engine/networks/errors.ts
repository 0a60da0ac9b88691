/** Docker's messages for network errors that several modules raise. */
import { forbidden, invalidParameter, notFound } from '../../common/errors.js';

export const ambiguous = (term: string, count: number) => invalidParameter(`network ${term} is ambiguous (${count} matches found based on ID prefix)`);
export const networkNotFound = (term: string) => notFound(`network ${term} not found`);
export const networkInUse = (name: string, id: string) => forbidden(`error while removing network: network ${name} id ${id} has active endpoints`);
