/** Docker's error body: every non-2xx JSON answer of the Engine API. */
export interface ErrorResponse {
  message: string;
}
