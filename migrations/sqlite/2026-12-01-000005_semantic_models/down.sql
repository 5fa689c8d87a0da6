DROP TABLE semantic_models;
