// Barrel file: not a worker, discovery must ignore it.
export {};
