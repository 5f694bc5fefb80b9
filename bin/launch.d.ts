// Declarations for bin/launch.js (plain JavaScript: it runs before any loader is registered).
export declare const SOURCES: readonly string[]
export declare function currentBundle(root: string): string | undefined
